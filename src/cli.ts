import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderLockedError, openDatabase } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { findListByName } from './db/lists.js';
import type { DB } from './db/schema.js';
import { findUserByEmail, listApiTokens, listUsers, revokeApiToken } from './db/users.js';
import { normaliseEmail } from './domain/addresses.js';
import { databaseTarget } from './runtime.js';
import { verifyAuditChain } from './services/audit.js';
import { AppError } from './services/errors.js';
import { createList, importMembers, rowsFromCsv, rowsFromJson } from './services/lists.js';
import { createUser, issueApiToken } from './services/users.js';
import type { AppContext } from './services/context.js';

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

export async function runCli(argv: string[], db: Kysely<DB>, out: Out, ctxForImport?: () => AppContext): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, name: { type: 'string' }, roles: { type: 'string' }, label: { type: 'string' }, id: { type: 'string' }, file: { type: 'string' }, as: { type: 'string' } },
  });
  const command = positionals.join(' ');
  switch (command) {
    case 'migrate': {
      const applied = await migrateToLatest(db as Kysely<unknown>);
      out(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
      return 0;
    }
    case 'user add': {
      const user = await createUser(db, { email: values.email ?? '', name: values.name ?? '', roles: (values.roles ?? '').split(',').filter(Boolean) as never });
      const { token } = await issueApiToken(db, user.id, values.label ?? 'cli');
      out(`added ${user.email} (${user.roles.join(', ')}) id ${user.id}`);
      out(`API token (shown once): ${token}`);
      return 0;
    }
    case 'user list': {
      for (const user of await listUsers(db)) out(`${user.email}\t${user.name}\t${user.roles.join(',')}\t${user.id}`);
      return 0;
    }
    case 'token issue': {
      const user = await requireUser(db, values.email);
      const { id, token } = await issueApiToken(db, user.id, values.label ?? 'cli');
      out(`token ${id} for ${user.email} (shown once): ${token}`);
      return 0;
    }
    case 'token list': {
      const user = await requireUser(db, values.email);
      for (const t of await listApiTokens(db, user.id)) out(`${t.id}\t${t.label}\t${t.created_at.toISOString()}\t${t.revoked_at ? 'revoked' : 'active'}`);
      return 0;
    }
    case 'token revoke': {
      if (!values.id) throw new AppError(400, 'usage', '--id is required');
      out((await revokeApiToken(db, values.id)) ? `revoked ${values.id}` : `no active token ${values.id}`);
      return 0;
    }
    case 'list import': {
      if (!values.name || !values.file) throw new AppError(400, 'usage', '--name and --file are required');
      const ctx = ctxForImport!();
      const actor = await requireUser(db, values.as ?? (await listUsers(db)).find((u) => u.roles.includes('admin'))?.email);
      const text = readFileSync(values.file, 'utf8');
      const rows = values.file.endsWith('.json') ? rowsFromJson(JSON.parse(text)) : rowsFromCsv(text);
      const list = (await findListByName(db, values.name)) ?? (await createList(ctx, actor, { name: values.name }));
      const report = await importMembers(ctx, actor, list.id, rows);
      out(`list ${list.name} (${list.id}): ${report.imported} imported, ${report.mergedDuplicates} duplicates merged, ${report.memberCount} members`);
      return 0;
    }
    case 'audit verify': {
      const verdict = await verifyAuditChain(db);
      if (verdict.ok) {
        out(`audit chain intact: ${verdict.count} events`);
        return 0;
      }
      out(`audit chain BROKEN at event ${verdict.brokenAt}: ${verdict.reason}`);
      return 1;
    }
    default:
      out(USAGE);
      return command === '' || command === 'help' ? 0 : 2;
  }
}

async function requireUser(db: Kysely<DB>, email: string | undefined) {
  const user = email ? await findUserByEmail(db, normaliseEmail(email)) : undefined;
  if (!user) throw new AppError(404, 'not_found', email ? `no user ${email}` : '--email is required (or --as for imports)');
  return user;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(databaseTarget(config));
  const importContext = (): AppContext => ({
    config,
    db: database.db,
    now: () => new Date(),
    // Imports touch neither queues nor mail.
    queues: undefined as never,
    mailer: undefined as never,
  });
  try {
    process.exitCode = await runCli(process.argv.slice(2), database.db, (line) => console.log(line), importContext);
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
