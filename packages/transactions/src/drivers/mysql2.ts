import type { Answer, Driver } from './driver.js';

interface ResultHeader {
  affectedRows?: number;
  insertId?: number | string;
}

/**
 * mysql2 3 under `drizzle-orm/mysql2`, on a pool or one connection. `db.execute` resolves with
 * `[rows, fields]` for a read and `[header, fields]` for a write, the header carrying
 * `affectedRows` (rows matched: mysql2 connects with CLIENT_FOUND_ROWS) and the first
 * AUTO_INCREMENT id the INSERT generated — read from the INSERT's own answer, never from a
 * second statement another insert could slip before. A MariaDB compound statement (`BEGIN NOT
 * ATOMIC … END`) resolves with `[[set, …, header], fields]`: a result set per SELECT it ran.
 */
export const mysql2: Driver = {
  name: 'mysql2',
  family: 'mysql',
  databaseClass: 'MySql2Database',
  transactionClass: 'MySql2Transaction',
  answer(result): Answer {
    const first = Array.isArray(result) ? (result[0] as unknown) : undefined;
    if (Array.isArray(first)) {
      // A compound statement answers with one result set per SELECT it ran, then a header.
      const sets = (
        Array.isArray(first[0]) ? first.filter((set) => Array.isArray(set)) : [first]
      ) as Record<string, unknown>[][];
      const rows = sets[0] as Record<string, unknown>[];
      return { rows, rowCount: rows.length, insertId: undefined, sets };
    }
    const header = (first ?? {}) as ResultHeader;
    // 0 when the table has no AUTO_INCREMENT column (a string with mysql2's bigNumberStrings).
    const id = Number(header.insertId ?? 0);
    return {
      rows: [],
      rowCount: header.affectedRows ?? 0,
      insertId: id > 0 ? id : undefined,
      sets: [],
    };
  },
  run: (query) => Promise.resolve(query),
  prepare: (query) => query.prepare(),
  // A pool lends connections (`getConnection`); a connection has none to lend.
  holdsOneConnection: (client) =>
    typeof (client as { getConnection?: unknown }).getConnection !== 'function',
  guard: () => {},
  abandonLostTransactions: false,
};
