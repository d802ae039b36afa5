import { sql, type Kysely } from 'kysely';

/**
 * What the app's own role may do, granted by the owner after each migration: read and write
 * every table, but only SELECT and INSERT the audit trail. Not being its owner, the role cannot
 * switch off the table's triggers; not being a superuser, it cannot set session_replication_role
 * to bypass them. It may read which migrations ran, and change none.
 */
export async function grantAppRole(db: Kysely<unknown>, role: string): Promise<void> {
  const app = sql.id(role);
  const statements = [
    sql`GRANT USAGE ON SCHEMA public TO ${app}`,
    sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${app}`,
    sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${app}`,
    sql`REVOKE UPDATE, DELETE ON audit_events FROM ${app}`,
    sql`REVOKE INSERT, UPDATE, DELETE ON kysely_migration, kysely_migration_lock FROM ${app}`,
    sql`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${app}`,
  ];
  await db.transaction().execute(async (trx) => {
    for (const statement of statements) await statement.execute(trx);
  });
}
