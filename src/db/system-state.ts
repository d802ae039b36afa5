import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

export async function isKillSwitchEngaged(db: Kysely<DB>): Promise<boolean> {
  const row = await db.selectFrom('system_state').select('value').where('key', '=', 'kill_switch').executeTakeFirst();
  return row?.value.engaged === true;
}

export async function setKillSwitch(db: Kysely<DB>, engaged: boolean, by: string, at: Date): Promise<void> {
  const value = JSON.stringify({ engaged, by, at: at.toISOString() });
  await db
    .insertInto('system_state')
    .values({ key: 'kill_switch', value, updated_at: at })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
    .execute();
}

export async function killSwitchState(db: Kysely<DB>): Promise<{ engaged: boolean; by?: string; at?: string }> {
  const row = await db.selectFrom('system_state').select('value').where('key', '=', 'kill_switch').executeTakeFirst();
  return (row?.value as { engaged: boolean; by?: string; at?: string } | undefined) ?? { engaged: false };
}
