import { itemTablesDdl } from './item-tables.js';
import { EXISTING_KEYS } from './key-mix.js';
import type { Admin } from './open-admin.js';

/** Creates the items tables and fills `items_existing` with its keys (e0 … e9999). */
export async function prepareItems(admin: Admin): Promise<void> {
  for (const ddl of itemTablesDdl(admin.family)) await admin.query(ddl);
  const batch = 1000;
  for (let from = 0; from < EXISTING_KEYS; from += batch) {
    const names = Array.from(
      { length: Math.min(batch, EXISTING_KEYS - from) },
      (_, i) => `e${from + i}`,
    );
    const placeholders = names
      .map((_, i) => (admin.family === 'postgres' ? `($${i + 1}, 1)` : '(?, 1)'))
      .join(', ');
    await admin.query(`insert into items_existing (name, value) values ${placeholders}`, names);
  }
  await admin.query(admin.family === 'postgres' ? 'analyze' : 'analyze table items_existing');
}
