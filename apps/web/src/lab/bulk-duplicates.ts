import { bookstoreTables, queryRows, runStatement } from '@racefree/bookstore';
import { getOrCreateMany } from '@racefree/rows';
import { atomic, classifyError, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { runInWaves } from './barrier.js';
import type { LabContext, Race, RaceOutcome } from './lab-context.js';
import { tally } from './lab-result.js';

/** The bulk duplicate race's strategies. */
export const BULK_DUPLICATES_STRATEGIES = ['naive', 'getOrCreateMany'] as const;
type Strategy = (typeof BULK_DUPLICATES_STRATEGIES)[number];

/** Emails each run draws from, and how many of them each client imports. */
const POOL = 150;
const PER_CLIENT = 100;

const prefixOf = (runId: string) => `bulk-${runId}-`;

/** Each client's import: `PER_CLIENT` of the run's `POOL` emails, in its own random order. */
function importList(runId: string): string[] {
  const emails = Array.from({ length: POOL }, (_, i) => `${prefixOf(runId)}${i}@lab.example`);
  for (let i = emails.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [emails[i], emails[j]] = [emails[j] as string, emails[i] as string];
  }
  return emails.slice(0, PER_CLIENT);
}

/** What one client's import ended with. */
interface Imported {
  /** Rows the client got back, of the `PER_CLIENT` it asked for. */
  rows: number;
  /** Rows it says it created (getOrCreateMany only). */
  created: number;
}

/**
 * The hand-written bulk get-or-create: one multi-row INSERT that skips taken keys (`ON CONFLICT
 * DO NOTHING`; MySQL's `ON DUPLICATE KEY UPDATE id = id`), in the order the caller has the rows,
 * then one SELECT of them all. Two imports that overlap in another order each hold a key the
 * other's INSERT waits for: a deadlock, and one import fails whole. At InnoDB's REPEATABLE READ
 * the SELECT also reads its snapshot, where rows another import committed meanwhile are missing.
 */
async function naiveImport(
  tx: Database,
  emails: readonly string[],
  postgres: boolean,
): Promise<Imported> {
  const values = sql.join(
    emails.map((email) => sql`(${email}, 'Lab import')`),
    sql`, `,
  );
  const insert = sql`insert into lab_sign_ups (email, name) values ${values}`;
  await runStatement(
    tx,
    postgres
      ? sql`${insert} on conflict do nothing`
      : sql`${insert} on duplicate key update id = id`,
  );
  const rows = await queryRows(
    tx,
    sql`select id from lab_sign_ups where email in (${sql.join(
      emails.map((email) => sql`${email}`),
      sql`, `,
    )})`,
  );
  return { rows: rows.length, created: 0 };
}

/**
 * Bulk duplicate sign-ups — an import of many emails at once, against other imports that
 * overlap it: what the single duplicates race cannot show. One row has one lock, but a batch
 * takes many, and the hand-written batch takes them in the caller's order: overlapping imports
 * deadlock each other, and on MySQL's REPEATABLE READ the re-read misses rows. `getOrCreateMany`
 * inserts in key order (callers queue, never deadlock), re-reads what it lost with a read that
 * sees it, and says which rows each caller created — exactly one creator per row.
 */
export const bulkDuplicatesRace: Race<Strategy> = {
  name: 'bulk-duplicates',
  title: 'Bulk imports that overlap',
  description: `Each client imports ${PER_CLIENT} of the same ${POOL} emails at once, in its own order. naive sends one INSERT … ON CONFLICT DO NOTHING of them all and re-reads them; getOrCreateMany inserts in key order and reports which rows it created.`,
  strategies: BULK_DUPLICATES_STRATEGIES,
  safe: ['getOrCreateMany'],
  defaultClients: 20,

  async run(context: LabContext, strategy: Strategy, clients: number): Promise<RaceOutcome> {
    const { db } = context;
    const imports = tally(
      await runInWaves(clients, context.concurrency, ({ index, sync }) =>
        atomic(db, async (tx) => {
          const emails = importList(context.runId);
          await sync();
          await context.faults.afterSync?.('bulk-duplicates', index);
          if (strategy === 'naive')
            return naiveImport(tx, emails, context.server.kind === 'postgres');
          const results = await getOrCreateMany(tx, bookstoreTables(tx).labSignUps, {
            where: emails.map((email) => ({ email })),
            defaults: { name: 'Lab import' },
          });
          return { rows: results.length, created: results.filter((r) => r.created).length };
        }),
      ),
      (reason) => classifyError(reason).kind,
    );
    await context.faults.beforeCount?.('bulk-duplicates');
    const [stored] = await queryRows<{ n: number | string }>(
      db,
      sql`select count(*) as n from lab_sign_ups where email like ${`${prefixOf(context.runId)}%`}`,
    );
    const rows = Number(stored?.n);
    const deadlocks = imports.failures.deadlock ?? 0;
    const short = imports.values.filter((imported) => imported.rows < PER_CLIENT).length;
    const createdClaims = imports.values.reduce((sum, imported) => sum + imported.created, 0);
    const otherFailures = Object.entries(imports.failures)
      .filter(([kind]) => kind !== 'deadlock')
      .reduce((sum, [, n]) => sum + n, 0);
    // getOrCreateMany says which rows it created: across the callers, once per row.
    const wrongCreators = strategy === 'getOrCreateMany' ? Math.abs(createdClaims - rows) : 0;
    return {
      anomalies: deadlocks + short + wrongCreators + otherFailures,
      counts: {
        imports: clients,
        'emails per import': PER_CLIENT,
        'rows stored': rows,
        'imports done': imports.values.length,
        'deadlocked imports': deadlocks,
        'imports missing rows': short,
        ...(strategy === 'getOrCreateMany' ? { 'rows reported created': createdClaims } : {}),
        'other failures': otherFailures,
      },
      summary:
        deadlocks + short + otherFailures === 0
          ? `${clients} overlapping imports, ${rows} rows: every import got all ${PER_CLIENT} of its rows${strategy === 'getOrCreateMany' ? `, and each row was reported created once (${createdClaims})` : ''}.`
          : `${clients} overlapping imports: ${deadlocks} deadlocked and failed whole${short ? `, ${short} re-read fewer rows than they imported` : ''}.`,
      errors: imports.errors,
    };
  },

  async cleanUp(context: LabContext) {
    await runStatement(
      context.db,
      sql`delete from lab_sign_ups where email like ${`${prefixOf(context.runId)}%`}`,
    );
  },
};
