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

interface CommandHelp {
  usage: string;
  summary: string;
  /** What to do instead while `npm start` holds the embedded database, where there is more to say than to stop it. */
  whileServerRuns?: string;
  details?: string;
}

/** Every command, its help, and what to do while the server holds the embedded database. */
const COMMANDS: Record<string, CommandHelp> = {
  migrate: {
    usage: 'migrate',
    summary: 'run database migrations (every start of the server also does)',
    whileServerRuns: 'the running server has already migrated on start; nothing to do',
  },
  'user add': {
    usage: 'user add --email E --name N --roles R[,R]',
    summary: 'add a user (roles: author, approver, admin) and print an API token',
    whileServerRuns: 'add the person on the Admin page (/admin) of the running server, signed in as an admin',
    details:
      '  --email E      their work address\n  --name N       their name as shown to others\n  --roles R[,R]  author, approver and/or admin\n  --label L      a label for the printed API token (default "cli")',
  },
  'user list': {
    usage: 'user list',
    summary: 'list users and their roles',
    whileServerRuns: 'the Admin page (/admin) of the running server lists everyone and their roles',
  },
  'token issue': {
    usage: 'token issue --email E [--label L]',
    summary: 'print a new API token for a user',
    whileServerRuns: 'stop the server (Ctrl-C on npm start), run this, then start it again',
  },
  'token list': { usage: 'token list --email E', summary: "list a user's tokens" },
  'token revoke': {
    usage: 'token revoke --id ID',
    summary: 'revoke a token',
    whileServerRuns:
      'deactivate the person on the Admin page (/admin), which ends every token of theirs at once, or stop the server and run this',
  },
  'list import': {
    usage: 'list import --name N --file F [--as E]',
    summary: 'create or extend a list from a .csv or .json file',
    whileServerRuns: 'import the file on the Lists page (/lists) of the running server, or POST it to /api/v1/lists/:id/members',
    details:
      '  --name N  the list to create or extend\n  --file F  a CSV file (header email,name,…) or a .json file [{email, name, fields}]\n  --as E    who imports it (default: the first admin)',
  },
  'audit verify': {
    usage: 'audit verify',
    summary: 'verify the audit hash chain and the signed checkpoints',
    whileServerRuns: "GET /api/v1/audit/verify with an admin's API token runs the same check",
  },
};

const USAGE = [
  'countersign <command> [options]        (--help after any command for its own help)',
  '',
  ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(42)} ${c.summary}`),
].join('\n');

/** The help a command line asks for (`--help`, `-h` or `help` anywhere), or null when it asks for none. */
export function helpFor(argv: string[]): string | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  if (!argv.includes('--help') && !argv.includes('-h') && words[0] !== 'help' && words.length > 0) return null;
  const wanted = (words[0] === 'help' ? words.slice(1) : words).join(' ');
  const command = COMMANDS[wanted];
  if (!command) return USAGE;
  return [`countersign ${command.usage}`, '', command.summary, ...(command.details ? ['', command.details] : [])].join('\n');
}

/**
 * What to say when the embedded database is held by a running server: exactly how to proceed with this
 * command, rather than only that the folder is locked.
 */
export function whileLocked(argv: string[], lockMessage: string): string {
  const command =
    COMMANDS[
      argv
        .filter((a) => !a.startsWith('-'))
        .slice(0, 2)
        .join(' ')
    ];
  const instead = command?.whileServerRuns ?? 'stop the server (Ctrl-C on npm start), run this, then start it again';
  return `${lockMessage}\nWhile the server runs: ${instead}.`;
}

type Out = (line: string) => void;

/** Throws ERR_PARSE_ARGS_UNKNOWN_OPTION and the like on an option no command takes. */
function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      roles: { type: 'string' },
      label: { type: 'string' },
      id: { type: 'string' },
      file: { type: 'string' },
      as: { type: 'string' },
    },
  });
}

export async function runCli(argv: string[], ctx: DataContext, out: Out): Promise<number> {
  const help = helpFor(argv);
  if (help) {
    out(help);
    return 0;
  }
  const { positionals, values } = parseCommandLine(argv);
  const command = positionals.join(' ');
  switch (command) {
    case 'migrate': {
      const applied = await migrate(ctx);
      out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      return 0;
    }
    case 'user add': {
      const user = await addUserFromCli(ctx, {
        email: values.email ?? '',
        name: values.name ?? '',
        roles: (values.roles ?? '').split(',').filter(Boolean) as never,
      });
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
      for (const t of await apiTokensOf(ctx, user.id))
        out(`${t.id}\t${t.label}\t${t.created_at.toISOString()}\t${t.revoked_at ? 'revoked' : 'active'}`);
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
      out(
        `list ${list.name} (${list.id}): ${report.imported} imported, ${report.mergedDuplicates} duplicates merged, ${report.memberCount} members`,
      );
      return 0;
    }
    case 'audit verify': {
      const report = await verifyAuditChain(ctx);
      for (const line of describeAuditReport(report)) out(line);
      return report.ok ? 0 : 1;
    }
    default:
      out(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
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

async function main(argv: string[]): Promise<void> {
  const help = helpFor(argv);
  if (help) return console.log(help);
  parseCommandLine(argv);
  const config = loadConfig();
  // `migrate` migrates itself, so that it can say what it applied.
  const database = await openDatabaseFor(config, { migrate: argv[0] !== 'migrate' }).catch((error: unknown) => {
    throw error instanceof DataFolderLockedError ? new DataFolderLockedError(whileLocked(argv, error.message)) : error;
  });
  try {
    process.exitCode = await runCli(argv, { config, db: database.db, now: () => new Date() }, (line) => console.log(line));
  } finally {
    await database.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const badOption = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_');
    const known = error instanceof ConfigError || error instanceof DataFolderLockedError || error instanceof AppError || badOption;
    // Node's own text for a bad option suggests `--` quoting; the first sentence is what matters here.
    const message = badOption
      ? `${(error as Error).message.split('. ')[0]}; countersign --help lists the commands and their options`
      : (error as Error).message;
    console.error(known ? `error: ${message}` : error);
    process.exit(1);
  });
}
