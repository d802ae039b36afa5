import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderLockedError, openDatabaseFor } from './runtime.js';
import type { AuditReport } from './domain/audit-chain.js';
import { verifyAuditChain } from './services/audit.js';
import type { DataContext } from './services/context.js';
import { AppError } from './services/errors.js';
import { createList, importMembers, listNamed } from './services/lists.js';
import { migrate } from './services/maintenance.js';
import { addUserFromCli, allUsers, apiTokensOf, issueApiToken, revokeToken, userByEmail } from './services/users.js';

const USAGE = `countersign <command>

  migrate                                    run database migrations
  user add --email E --name N --roles R[,R]  add a user (roles: author, approver, admin) and print an API token
  user list                                  list users and their roles
  token issue --email E [--label L]          print a new API token for a user
  token list --email E                       list a user's tokens
  token revoke --id ID                       revoke a token
  list import --name N --file F [--as E]     create or extend a list from a .csv or .json file
  audit verify                               verify the audit hash chain`;

type Out = (line: string) => void;

export async function runCli(argv: string[], ctx: DataContext, out: Out): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, roles: { type: 'string' }, label: { type: 'string' }, id: { type: 'string' }, file: { type: 'string' }, as: { type: 'string' } },
  });
  const command = positionals.join(' ');
  switch (command) {
    case 'migrate': {
      const applied = await migrate(ctx);
      out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      return 0;
    }
    case 'user add': {
      const user = await addUserFromCli(ctx, { email: values.email ?? '', name: values.name ?? '', roles: (values.roles ?? '').split(',').filter(Boolean) as never });
      const { token } = await issueApiToken(ctx.db, user.id, values.label ?? 'cli');
      out(`added ${user.email} (${user.roles.join(', ')}) id ${user.id}`);
      out(`API token (shown once): ${token}`);
      return 0;
    }
    case 'user list': {
      for (const user of await allUsers(ctx)) out(`${user.email}\t${user.name}\t${user.roles.join(',')}\t${user.id}`);
      return 0;
    }
    case 'token issue': {
      const user = await requireUser(ctx, values.email);
      const { id, token } = await issueApiToken(ctx.db, user.id, values.label ?? 'cli');
      out(`token ${id} for ${user.email} (shown once): ${token}`);
      return 0;
    }
    case 'token list': {
      const user = await requireUser(ctx, values.email);
      for (const t of await apiTokensOf(ctx, user.id)) out(`${t.id}\t${t.label}\t${t.created_at.toISOString()}\t${t.revoked_at ? 'revoked' : 'active'}`);
      return 0;
    }
    case 'token revoke': {
      if (!values.id) throw new AppError(400, 'usage', '--id is required');
      out((await revokeToken(ctx, values.id)) ? `revoked ${values.id}` : `no active token ${values.id}`);
      return 0;
    }
    case 'list import': {
      if (!values.name || !values.file) throw new AppError(400, 'usage', '--name and --file are required');
      const actor = await requireUser(ctx, values.as ?? (await allUsers(ctx)).find((u) => u.roles.includes('admin'))?.email);
      const file = createReadStream(values.file);
      await once(file, 'open');
      const list = (await listNamed(ctx, values.name)) ?? (await createList(ctx, actor, { name: values.name }));
      const report = await importMembers(ctx, actor, list.id, { format: values.file.endsWith('.json') ? 'json' : 'csv', chunks: file });
      out(`list ${list.name} (${list.id}): ${report.imported} imported, ${report.mergedDuplicates} duplicates merged, ${report.memberCount} members`);
      return 0;
    }
    case 'audit verify': {
      const report = await verifyAuditChain(ctx);
      for (const line of describeAuditReport(report)) out(line);
      return report.ok ? 0 : 1;
    }
    default:
      out(USAGE);
      return command === '' || command === 'help' ? 0 : 2;
  }
}

function describeAuditReport(report: AuditReport): string[] {
  const lines: string[] = [];
  if (report.ok) {
    const anchor = report.checkpoint
      ? `event ${report.checkpoint.lastId} matches the signed checkpoint of ${report.checkpoint.at} (${report.checkpoint.name})`
      : 'no checkpoint to compare it with (set AUDIT_KEY and AUDIT_CHECKPOINT_DIR): a truncated or recomputed chain would pass';
    return [`audit chain intact: ${report.count} events; ${anchor}`];
  }
  for (const problem of report.problems) {
    if (problem.kind === 'broken') lines.push(`audit chain BROKEN at event ${problem.eventId}: ${problem.message}`);
    else if (problem.kind === 'rewritten') lines.push(`audit chain REWRITTEN (${problem.checkpoint}): ${problem.message}`);
    else if (problem.kind === 'truncated') lines.push(`audit chain TRUNCATED (${problem.checkpoint}): ${problem.message}`);
    else lines.push(`checkpoint ${problem.checkpoint} REFUSED: ${problem.message}`);
  }
  return lines;
}

async function requireUser(ctx: DataContext, email: string | undefined) {
  const user = email ? await userByEmail(ctx, email) : undefined;
  if (!user) throw new AppError(404, 'not_found', email ? `no user ${email}` : '--email is required (or --as for imports)');
  return user;
}

async function main(): Promise<void> {
  const config = loadConfig();
  // `migrate` migrates itself, so that it can say what it applied.
  const database = await openDatabaseFor(config, { migrate: process.argv[2] !== 'migrate' });
  try {
    process.exitCode = await runCli(process.argv.slice(2), { config, db: database.db, now: () => new Date() }, (line) => console.log(line));
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    const known = error instanceof ConfigError || error instanceof DataFolderLockedError || error instanceof AppError;
    console.error(known ? `error: ${(error as Error).message}` : error);
    process.exit(1);
  });
}
