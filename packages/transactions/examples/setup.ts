// The README's setup: open the database once, through managed().
// #region setup
import { managed } from '@racefree/transactions';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';

// #endregion setup
/** Opens the example database (the README shows the line inside). */
export function openDatabase(connectionString: string) {
  // #region setup
  const db = managed(drizzle({ client: new pg.Pool({ connectionString }) }));
  // #endregion setup
  return db;
}
