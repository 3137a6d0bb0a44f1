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

/** Emails in each block; each client imports two blocks. */
const BLOCK = 50;
const PER_CLIENT = 2 * BLOCK;

const prefixOf = (runId: string) => `bulk-${runId}-`;

/**
 * Client `index`'s import: its own block of emails, then its neighbour's — the next client of
 * its wave, the last one wrapping round to the first — each in a random order. Every import
 * overlaps the two beside it, and in a wave the overlaps close a ring.
 */
function importList(runId: string, index: number, concurrency: number, clients: number): string[] {
  const first = index - (index % concurrency);
  const size = Math.min(concurrency, clients - first);
  const next = size > 1 ? first + ((index - first + 1) % size) : -1;
  const block = (owner: number, half: string) =>
    shuffled(
      Array.from({ length: BLOCK }, (_, i) => `${prefixOf(runId)}${owner}${half}-${i}@lab.example`),
    );
  // A wave of one has no neighbour: its second block is its own.
  return [...block(index, ''), ...(next < 0 ? block(index, 'b') : block(next, ''))];
}

function shuffled(emails: string[]): string[] {
  for (let i = emails.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [emails[i], emails[j]] = [emails[j] as string, emails[i] as string];
  }
  return emails;
}

/** What one client's import ended with. */
interface Imported {
  /** Rows the client got back, of the `PER_CLIENT` it asked for. */
  rows: number;
  /** Rows it says it created (getOrCreateMany only). */
  created: number;
}

/**
 * The hand-written bulk get-or-create, as imports are often written: in chunks of rows, each
 * one INSERT that skips taken keys (`ON CONFLICT DO NOTHING`; MySQL's `ON DUPLICATE KEY UPDATE
 * id = id`) in the order the caller has the rows, then one SELECT of them all. The first chunk
 * (the client's own block) goes in before the wave's barrier; the second, its neighbour's
 * block, after it — when the neighbour holds those keys and waits for this client's in turn:
 * around the ring, a deadlock, and one import fails whole. At InnoDB's REPEATABLE READ the
 * SELECT also reads its snapshot, where rows another import committed meanwhile are missing.
 */
async function naiveImport(
  tx: Database,
  emails: readonly string[],
  postgres: boolean,
  sync: () => Promise<void>,
): Promise<Imported> {
  const insert = async (chunk: readonly string[]) => {
    const values = sql.join(
      chunk.map((email) => sql`(${email}, 'Lab import')`),
      sql`, `,
    );
    const statement = sql`insert into lab_sign_ups (email, name) values ${values}`;
    await runStatement(
      tx,
      postgres
        ? sql`${statement} on conflict do nothing`
        : sql`${statement} on duplicate key update id = id`,
    );
  };
  await insert(emails.slice(0, BLOCK));
  await sync();
  await insert(emails.slice(BLOCK));
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
 * takes many, and the hand-written import takes them in the caller's order: imports that
 * overlap in a ring (each holds what the one before it needs next) deadlock each other, and on MySQL's REPEATABLE READ the re-read misses rows. `getOrCreateMany`
 * inserts in key order (callers queue, never deadlock), re-reads what it lost with a read that
 * sees it, and says which rows each caller created — exactly one creator per row.
 */
export const bulkDuplicatesRace: Race<Strategy> = {
  name: 'bulk-duplicates',
  title: 'Bulk imports that overlap',
  description: `Each client imports ${PER_CLIENT} emails: ${BLOCK} of its own and ${BLOCK} its neighbour imports too, each in its own order. naive inserts them in two chunks of INSERT … ON CONFLICT DO NOTHING and re-reads them; getOrCreateMany inserts in key order and reports which rows it created.`,
  strategies: BULK_DUPLICATES_STRATEGIES,
  safe: ['getOrCreateMany'],
  defaultClients: 20,

  async run(context: LabContext, strategy: Strategy, clients: number): Promise<RaceOutcome> {
    const { db } = context;
    const imports = tally(
      await runInWaves(clients, context.concurrency, ({ index, sync }) =>
        atomic(db, async (tx) => {
          const emails = importList(context.runId, index, context.concurrency, clients);
          if (strategy === 'naive') {
            const synced = async () => {
              await sync();
              await context.faults.afterSync?.('bulk-duplicates', index);
            };
            return naiveImport(tx, emails, context.server.kind === 'postgres', synced);
          }
          await sync();
          await context.faults.afterSync?.('bulk-duplicates', index);
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
