import { sql } from 'drizzle-orm';
import { type Database, executeRows, familyOf } from '../database.js';
import { rootOf } from '../scope.js';
import { type Dialect, ISOLATION_LEVELS, type IsolationLevel, parseVersion } from './dialect.js';
import { mariadbDialect } from './mariadb.js';
import { mysqlDialect } from './mysql.js';
import { postgresDialect } from './postgres.js';

/** A probe of one root database: its answer, and that answer once it has arrived. */
interface Probe {
  answer: Promise<Dialect>;
  dialect?: Dialect;
}

const probes = new WeakMap<object, Probe>();

/**
 * The dialect of `db` (postgres, mysql or mariadb, with the server version), probed with one
 * query the first time and cached per database object. Pass the root database when you can:
 * the probe then runs on its own pooled connection, outside any transaction.
 */
export function dialectOf(db: Database): Promise<Dialect> {
  // A transaction atomic() opened shares its root's answer: one probe per pool, not per transaction.
  const root = rootOf(db);
  let found = probes.get(root);
  if (!found) {
    const entry: Probe = { answer: probe(root) };
    probes.set(root, entry);
    entry.answer.then(
      (dialect) => {
        entry.dialect = dialect;
      },
      () => {
        // A failed probe (server down) must not be cached forever.
        if (probes.get(root) === entry) probes.delete(root);
      },
    );
    found = entry;
  }
  return found.answer;
}

/**
 * The dialect `dialectOf(db)` has already found for `db`'s root database, or `undefined` before
 * its probe has answered — never a guess. Lets a caller skip an await once the answer is in.
 */
export function knownDialect(db: Database): Dialect | undefined {
  return probes.get(rootOf(db))?.dialect;
}

/** Seeds the cache, for tests that render SQL for servers that cannot run here (MySQL 8). */
export function setDialectForTesting(db: Database, dialect: Dialect): void {
  probes.set(db, { answer: Promise.resolve(dialect), dialect });
}

async function probe(db: Database): Promise<Dialect> {
  if (familyOf(db) === 'postgres') {
    const [row] = await executeRows<{ version: string; isolation: string }>(
      db,
      sql`select current_setting('server_version_num') as version, current_setting('default_transaction_isolation') as isolation`,
    );
    return postgresDialect(
      parseVersion(String(row?.version)),
      isolationLevel(row?.isolation, 'read committed'),
    );
  }
  const [row] = await executeRows<{ version: string }>(db, sql`select version() as version`);
  const text = String(row?.version ?? '');
  const mariadb = /mariadb/i.test(text);
  // MariaDB before 11.1 only has tx_isolation; MySQL 8 only has transaction_isolation.
  const [iso] = await executeRows<{ isolation: string }>(
    db,
    mariadb
      ? sql`select @@tx_isolation as isolation`
      : sql`select @@transaction_isolation as isolation`,
  );
  const level = isolationLevel(iso?.isolation, 'repeatable read');
  return mariadb
    ? mariadbDialect(parseVersion(text), level)
    : mysqlDialect(parseVersion(text), level);
}

function isolationLevel(text: unknown, fallback: IsolationLevel): IsolationLevel {
  const normalized = String(text ?? '')
    .toLowerCase()
    .replaceAll('-', ' ');
  return (ISOLATION_LEVELS as readonly string[]).includes(normalized)
    ? (normalized as IsolationLevel)
    : fallback;
}
