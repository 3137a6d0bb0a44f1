import { bookstoreTables, queryRows, runStatement } from '@racefree/bookstore';
import { getOrCreate } from '@racefree/rows';
import { atomic, type Database, isUniqueViolation, RacefreeError } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { runInWaves } from './barrier.js';
import type { LabContext, Race, RaceOutcome } from './lab-context.js';
import { messageOf, tally } from './lab-result.js';

/** The duplicate sign-up race's strategies. */
export const DUPLICATES_STRATEGIES = ['naive', 'getOrCreate'] as const;
type Strategy = (typeof DUPLICATES_STRATEGIES)[number];

const emailOf = (runId: string) => `dup-${runId}@lab.example`;

/**
 * The naive sign-up: look the email up, and insert it if it was not there. The clients of a
 * wave all look before any inserts (they meet on the barrier between the two steps), as
 * concurrent requests do when they arrive together.
 */
async function selectThenInsert(
  tx: Database,
  table: 'lab_sign_ups' | 'lab_sign_ups_unkeyed',
  email: string,
  sync: () => Promise<void>,
): Promise<'created' | 'found'> {
  const found = await queryRows(
    tx,
    sql`select id from ${sql.identifier(table)} where email = ${email}`,
  );
  await sync();
  if (found.length > 0) return 'found';
  await runStatement(
    tx,
    sql`insert into ${sql.identifier(table)} (email, name) values (${email}, 'Lab sign-up')`,
  );
  return 'created';
}

async function countRows(db: Database, table: string, email: string): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(
    db,
    sql`select count(*) as n from ${sql.identifier(table)} where email = ${email}`,
  );
  return Number(row?.n);
}

/**
 * Duplicate sign-ups: `clients` sign-ups of one email at once. The naive select-then-insert
 * makes one row per client of a wave on a table without a unique key, and on a table with one
 * it crashes every loser with a unique-violation error. `getOrCreate` on the keyed table makes
 * one row and answers every caller with it; on the unkeyed table it refuses before any SQL,
 * since no get-or-create without a unique key is race-free.
 */
export const duplicatesRace: Race<Strategy> = {
  name: 'duplicates',
  title: 'Duplicate sign-ups',
  description:
    'Many sign-ups of one email at once. naive looks the email up, then inserts it if missing — on a table without a unique key, and on one with it; getOrCreate creates, catches the unique violation and re-reads the winner.',
  strategies: DUPLICATES_STRATEGIES,
  safe: ['getOrCreate'],
  defaultClients: 20,

  async run(context: LabContext, strategy: Strategy, clients: number): Promise<RaceOutcome> {
    const { db } = context;
    const email = emailOf(context.runId);
    const classify = (reason: unknown) =>
      isUniqueViolation(reason) ? 'uniqueViolations' : 'failed';

    if (strategy === 'naive') {
      const unkeyed = tally(
        await runInWaves(clients, context.concurrency, ({ index, sync }) =>
          atomic(db, async (tx) => {
            const outcome = await selectThenInsert(tx, 'lab_sign_ups_unkeyed', email, sync);
            await context.faults.afterSync?.('duplicates', index);
            return outcome;
          }),
        ),
        classify,
      );
      const keyed = tally(
        await runInWaves(clients, context.concurrency, ({ sync }) =>
          atomic(db, (tx) => selectThenInsert(tx, 'lab_sign_ups', email, sync)),
        ),
        classify,
      );
      await context.faults.beforeCount?.('duplicates');
      const rowsWithoutKey = await countRows(db, 'lab_sign_ups_unkeyed', email);
      const rowsWithKey = await countRows(db, 'lab_sign_ups', email);
      const duplicateRows = Math.max(0, rowsWithoutKey - 1);
      const uniqueViolations = keyed.failures.uniqueViolations ?? 0;
      return {
        anomalies: duplicateRows + uniqueViolations,
        counts: {
          'sign-ups per table': clients,
          'rows without the key': rowsWithoutKey,
          'duplicate rows': duplicateRows,
          'rows with the key': rowsWithKey,
          'unique-violation errors': uniqueViolations,
          'other failures':
            (unkeyed.failures.failed ?? 0) +
            (unkeyed.failures.uniqueViolations ?? 0) +
            (keyed.failures.failed ?? 0),
        },
        summary: `One email, ${clients} sign-ups: ${rowsWithoutKey} rows without the unique key, and ${uniqueViolations} sign-ups crashed on it.`,
        errors: [...keyed.errors, ...unkeyed.errors].slice(0, 3),
      };
    }

    const { labSignUps, labSignUpsUnkeyed } = bookstoreTables(db);
    let refusal = '';
    try {
      // No unique key covers `email` here: refused before any SQL.
      await getOrCreate(db, labSignUpsUnkeyed, { where: { email } });
    } catch (error) {
      if (!(error instanceof RacefreeError)) throw error;
      refusal = messageOf(error);
    }
    const keyed = tally(
      await runInWaves(clients, context.concurrency, ({ index, sync }) =>
        atomic(db, async (tx) => {
          await sync();
          await context.faults.afterSync?.('duplicates', index);
          return (
            await getOrCreate(tx, labSignUps, {
              where: { email },
              defaults: { name: 'Lab sign-up' },
            })
          ).created;
        }),
      ),
      classify,
    );
    await context.faults.beforeCount?.('duplicates');
    const rowsWithKey = await countRows(db, 'lab_sign_ups', email);
    const uniqueViolations = keyed.failures.uniqueViolations ?? 0;
    const created = keyed.values.filter(Boolean).length;
    return {
      anomalies: Math.max(0, rowsWithKey - 1) + uniqueViolations,
      counts: {
        'sign-ups': clients,
        'rows with the key': rowsWithKey,
        created,
        'found the winner': keyed.values.length - created,
        'unique-violation errors': uniqueViolations,
        'other failures': keyed.failures.failed ?? 0,
        'refused without a key': refusal ? 1 : 0,
      },
      summary: `One email, ${clients} sign-ups: ${rowsWithKey} row${rowsWithKey === 1 ? '' : 's'}, and ${keyed.values.length} callers got one.${refusal ? ' Without a unique key getOrCreate refuses before any SQL.' : ''}`,
      errors: keyed.errors,
    };
  },

  async cleanUp(context: LabContext) {
    const email = emailOf(context.runId);
    for (const table of ['lab_sign_ups', 'lab_sign_ups_unkeyed'])
      await runStatement(
        context.db,
        sql`delete from ${sql.identifier(table)} where email = ${email}`,
      );
  },
};
