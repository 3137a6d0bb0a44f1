import { bookstoreTables, queryRows, runStatement } from '@racefree/bookstore';
import { getOrCreate } from '@racefree/rows';
import { atomic, type Database, isUniqueViolation } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { runInWaves } from './barrier.js';
import type { LabContext, Race } from './lab-context.js';
import { tally } from './lab-result.js';

/** The REPEATABLE READ get-or-create race's strategies. */
export const REPEATABLE_READ_STRATEGIES = ['naive', 'getOrCreate'] as const;
type Strategy = (typeof REPEATABLE_READ_STRATEGIES)[number];

const emailOf = (runId: string) => `rr-${runId}@lab.example`;

/** The seed article's re-fetch after a duplicate key found nothing: the caller gets no row. */
class MissedRowError extends Error {
  constructor() {
    super('the re-fetch after the duplicate key found no row (REPEATABLE READ snapshot)');
  }
}

const lookUp = (tx: Database, email: string) =>
  queryRows<{ id: number }>(tx, sql`select id from lab_sign_ups where email = ${email}`);

/**
 * The seed article's get_or_create on MySQL/MariaDB at REPEATABLE READ. Every client reads
 * first (that read fixes its snapshot), then the wave meets on the barrier and creates. The
 * article's fix — create, catch the duplicate key, plain re-fetch — misses the winner's row,
 * which committed after the snapshot: the caller ends with nothing. racefree's `getOrCreate`
 * re-fetches with a locking read, which sees the latest committed row.
 */
export const repeatableReadRace: Race<Strategy> = {
  name: 'repeatable-read',
  title: 'get_or_create under REPEATABLE READ',
  description:
    "MySQL/MariaDB's default isolation: a plain SELECT reads the transaction's snapshot. naive creates, catches the duplicate key and re-fetches with a plain SELECT; getOrCreate re-fetches with a locking read.",
  strategies: REPEATABLE_READ_STRATEGIES,
  safe: ['getOrCreate'],
  defaultClients: 10,
  unavailable: ({ server }) =>
    server.kind === 'postgres'
      ? 'it shows InnoDB REPEATABLE READ snapshots: run the demo on MySQL/MariaDB'
      : undefined,

  async run(context: LabContext, strategy: Strategy, clients: number) {
    const { db } = context;
    const email = emailOf(context.runId);
    const { labSignUps } = bookstoreTables(db);
    const outcomes = await runInWaves(clients, context.concurrency, ({ index, sync }) =>
      atomic(
        db,
        async (tx) => {
          const [seen] = await lookUp(tx, email);
          await sync();
          await context.faults.afterSync?.('repeatable-read', index);
          if (strategy === 'getOrCreate') {
            const { created } = await getOrCreate(tx, labSignUps, {
              where: { email },
              defaults: { name: 'Lab sign-up' },
            });
            return created ? 'created' : 'found';
          }
          if (seen) return 'found';
          try {
            await runStatement(
              tx,
              sql`insert into lab_sign_ups (email, name) values (${email}, 'Lab sign-up')`,
            );
            return 'created';
          } catch (error) {
            if (!isUniqueViolation(error)) throw error;
            const [again] = await lookUp(tx, email);
            if (!again) throw new MissedRowError();
            return 'found';
          }
        },
        { isolationLevel: 'repeatable read' },
      ),
    );
    await context.faults.beforeCount?.('repeatable-read');
    const { values, failures, errors } = tally(outcomes, (reason) =>
      reason instanceof MissedRowError ? 'missed' : 'failed',
    );
    const [row] = await queryRows<{ n: number | string }>(
      db,
      sql`select count(*) as n from lab_sign_ups where email = ${email}`,
    );
    const missed = failures.missed ?? 0;
    return {
      anomalies: missed,
      counts: {
        callers: clients,
        rows: Number(row?.n),
        created: values.filter((v) => v === 'created').length,
        'found the row': values.filter((v) => v === 'found').length,
        'missed the row': missed,
        'other failures': failures.failed ?? 0,
      },
      summary:
        missed === 0
          ? `All ${values.length} callers got the row.`
          : `${missed} callers hit the duplicate key, re-fetched, and found nothing.`,
      errors,
    };
  },

  async cleanUp(context: LabContext) {
    await runStatement(
      context.db,
      sql`delete from lab_sign_ups where email = ${emailOf(context.runId)}`,
    );
  },
};
