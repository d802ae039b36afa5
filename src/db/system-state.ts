import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

export async function isKillSwitchEngaged(db: Kysely<DB>): Promise<boolean> {
  const row = await db.selectFrom('system_state').select('value').where('key', '=', 'kill_switch').executeTakeFirst();
  return row?.value.engaged === true;
}
