import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { NO_POLICY, policySchema, type Policy } from './domain/policy.js';

export class PolicyFileError extends Error {}

/**
 * The policy from POLICY_FILE (YAML, or JSON, which is YAML too), checked once at start; a wrong
 * rule stops the process with the line it is on. No file: no rule beyond the configured quorum.
 */
export function loadPolicy(path: string | undefined): { policy: Policy; source: string } {
  if (!path) return { policy: NO_POLICY, source: '' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyFileError(`POLICY_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  return { policy: parsePolicy(text, path), source: text };
}

export function parsePolicy(text: string, name = 'policy'): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    const [first] = doc.errors;
    throw new PolicyFileError(`${name}, line ${lines.linePos(first!.pos[0]).line}: ${first!.message}`);
  }
  const parsed = policySchema.safeParse(doc.toJS() ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    // The deepest node that exists on the issue's path: an unknown or missing key points at its parent.
    let node: unknown;
    for (let depth = issue.path.length; depth > 0 && !node; depth--)
      node = doc.getIn(issue.path.slice(0, depth) as (string | number)[], true);
    node ??= doc.contents;
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    const where = range ? `line ${lines.linePos(range[0]).line}` : 'top level';
    return `${name}, ${where} (${issue.path.join('.') || 'policy'}): ${issue.message}`;
  });
  throw new PolicyFileError(problems.join('\n'));
}
