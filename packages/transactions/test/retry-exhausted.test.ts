import { Barrier, describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  type Database,
  isDeadlock,
  isLockNotAvailable,
  isSerializationFailure,
  onCommit,
  onRollback,
  RacefreeError,
  RetryExhaustedError,
} from '../src/index.js';
import { executeRows, executeStatement } from '../src/internal.js';
import {
  balances,
  counterValue,
  createBallast,
  deadlockingPartner as deadlock,
  errorOf,
  lockAccount,
  resetAccounts,
} from './support/helpers.js';

describeDialects('retries that run out, and errors that are never retried', (t) => {
  const db = () => t.connection.db;
  let partners: TestConnection;

  beforeAll(async () => {
    // Partners run on their own pool: an atomic() on `db` inside the victim's block would
    // join the victim's transaction as a savepoint instead of competing with it.
    partners = await t.connect({ max: 4 });
    await resetAccounts(t.connection);
    await createBallast(t.connection);
  });
  beforeEach(async () => {
    await resetAccounts(t.connection);
  });

  const deadlockingPartner = () => deadlock({ kind: t.kind, partners, observer: t.connection });

  it('a deadlock on every attempt ends in RetryExhaustedError carrying the real driver error', async () => {
    let attempts = 0;
    const committed: number[] = [];
    const rolledBack: number[] = [];
    const partnerRuns: Promise<void>[] = [];
    const error = await errorOf(
      atomic(
        db(),
        async (tx) => {
          // The last attempt's partner commits first. Raced for account 1 by this attempt, it
          // could queue behind it, with this attempt's partner queued behind it on account 2:
          // no cycle the server sees, only the partner's lock timeout (20 s) — seen in CI.
          await partnerRuns[partnerRuns.length - 1];
          attempts += 1;
          const attempt = attempts;
          await onCommit(() => committed.push(attempt));
          await onRollback(() => rolledBack.push(attempt));
          const partner = deadlockingPartner();
          partnerRuns.push(partner.done);
          await lockAccount(tx, 1);
          await partner.meet();
          await lockAccount(tx, 2);
        },
        { retries: { retries: 2, baseDelayMs: 1 } },
      ),
    );
    await Promise.all(partnerRuns);

    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error).toBeInstanceOf(RacefreeError);
    const exhausted = error as RetryExhaustedError;
    expect(exhausted.code).toBe('RETRY_EXHAUSTED');
    expect(exhausted.attempts).toBe(3);
    expect(attempts).toBe(3);
    expect(isDeadlock(exhausted.cause)).toBe(true);
    expect(classifyError(exhausted.cause)).toEqual({ kind: 'deadlock', retryable: true });
    const driverError = (exhausted.cause as { cause?: { code?: unknown; errno?: unknown } }).cause;
    expect(t.kind === 'postgres' ? driverError?.code : driverError?.errno).toBe(
      t.kind === 'postgres' ? '40P01' : 1213,
    );
    expect(committed).toEqual([]);
    expect(rolledBack).toEqual([1, 2, 3]);
    // Each attempt's partner won its deadlock and committed; the victim left nothing.
    expect(await balances(t.connection)).toEqual({ 1: 115, 2: 85 });
  });

  it('a NOWAIT lock that is taken fails at once and is not retried, even with retries', async () => {
    const holding = new Barrier(2);
    const release = new Barrier(2);
    const holder = atomic(partners.db, async (tx) => {
      await lockAccount(tx, 1);
      await holding.wait();
      await release.wait();
    });
    await holding.wait();
    let attempts = 0;
    const error = await errorOf(
      atomic(
        db(),
        async (tx) => {
          attempts += 1;
          await executeRows(tx, sql`select balance from accounts where id = 1 for update nowait`);
        },
        { retries: 5 },
      ),
    );
    await release.wait();
    await holder;
    expect(attempts).toBe(1);
    expect(error).not.toBeInstanceOf(RetryExhaustedError);
    expect(isLockNotAvailable(error)).toBe(true);
    expect(classifyError(error)).toEqual({ kind: 'lock_not_available', retryable: false });
  });

  it('an error that is not transient is thrown as it is, after one attempt', async () => {
    let attempts = 0;
    const error = await errorOf(
      atomic(
        db(),
        async (tx) => {
          attempts += 1;
          await executeStatement(tx, sql`insert into accounts (id, balance) values (1, 0)`);
        },
        { retries: 5 },
      ),
    );
    expect(attempts).toBe(1);
    expect(classifyError(error).kind).toBe('unique_violation');
  });

  it('retries: 0 rethrows the transient error itself, not RetryExhaustedError', async () => {
    const partner = deadlockingPartner();
    const error = await errorOf(
      atomic(db(), async (tx: Database) => {
        await lockAccount(tx, 1);
        await partner.meet();
        await lockAccount(tx, 2);
      }),
    );
    await partner.done;
    expect(error).not.toBeInstanceOf(RetryExhaustedError);
    expect(isDeadlock(error)).toBe(true);
  });
});

describeDialects(
  'retries that run out on serialization failures (PostgreSQL)',
  (t) => {
    let writer: TestConnection;
    beforeAll(async () => {
      writer = await t.connect({ max: 1 });
      await t.connection.query('create table counters (id int primary key, n int not null)');
      await t.connection.query('insert into counters values (1, 0)');
    });

    it('every attempt meets a concurrent committed write: RetryExhaustedError after 1 + retries attempts', async () => {
      let attempts = 0;
      const error = await errorOf(
        atomic(
          t.connection.db,
          async (tx) => {
            attempts += 1;
            // The snapshot is taken by the first read; the other writer commits after it.
            await executeRows(tx, sql`select n from counters where id = 1`);
            await writer.query('update counters set n = n + 1 where id = 1');
            await executeStatement(tx, sql`update counters set n = n + 100 where id = 1`);
          },
          { isolationLevel: 'repeatable read', retries: 3 },
        ),
      );
      expect(error).toBeInstanceOf(RetryExhaustedError);
      expect((error as RetryExhaustedError).attempts).toBe(4);
      expect(attempts).toBe(4);
      expect(isSerializationFailure((error as RetryExhaustedError).cause)).toBe(true);
      expect(await counterValue(t.connection)).toBe(4); // only the other writer's four commits
    });
  },
  { kinds: ['postgres'] },
);
