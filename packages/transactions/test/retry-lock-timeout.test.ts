import { describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  type Database,
  onCommit,
  onRollback,
  RetryExhaustedError,
} from '../src/index.js';
import { executeRows, executeStatement } from '../src/internal.js';
import { balances, errorOf, lockAccount, resetAccounts } from './support/helpers.js';

// A lock-wait timeout is transient: the row was busy, not wrong. The holder keeps the row
// until the waiter's first attempt has timed out — told so by that attempt's onRollback hook —
// so the timeout is certain and the retry certain to find the row free.
describeDialects('retries on real lock-wait timeouts', (t) => {
  const db = () => t.connection.db;
  let holders: TestConnection;

  /** Locks account 1 with a short lock wait: PostgreSQL lock_timeout, MariaDB per statement. */
  const lockWithShortWait = async (tx: Database) => {
    if (t.kind === 'postgres') {
      await executeStatement(tx, sql`set local lock_timeout = '50ms'`);
      return lockAccount(tx, 1);
    }
    const [row] = await executeRows<{ balance: number }>(
      tx,
      sql`set statement innodb_lock_wait_timeout = 1 for select balance from accounts where id = 1 for update`,
    );
    return Number(row?.balance);
  };

  /** Holds account 1 (adding 1 to it) until `release` resolves; resolves once the lock is held. */
  const holdAccount = (release: Promise<void>) => {
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => {
      held = resolve;
    });
    const done = atomic(holders.db, async (tx) => {
      await lockAccount(tx, 1);
      await executeStatement(tx, sql`update accounts set balance = balance + 1 where id = 1`);
      held();
      await release;
    });
    return { isHeld, done };
  };

  beforeAll(async () => {
    holders = await t.connect({ max: 2 });
    await resetAccounts(t.connection);
  });
  beforeEach(async () => {
    await resetAccounts(t.connection);
  });

  it('the timed-out attempt is rolled back and retried; the retry commits after the holder', async () => {
    let firstAttemptFailed!: () => void;
    const release = new Promise<void>((resolve) => {
      firstAttemptFailed = resolve;
    });
    const holder = holdAccount(release);
    await holder.isHeld;
    let attempts = 0;
    const hooks: string[] = [];
    await atomic(
      db(),
      async (tx) => {
        attempts += 1;
        const attempt = attempts;
        await onCommit(() => hooks.push(`commit #${attempt}`));
        await onRollback(() => {
          hooks.push(`rollback #${attempt}`);
          firstAttemptFailed();
        });
        if (attempt > 1) await holder.done; // the holder has committed: the row is free
        const balance = await lockWithShortWait(tx);
        await executeStatement(tx, sql`update accounts set balance = ${balance + 10} where id = 1`);
      },
      { retries: 2 },
    );
    await holder.done;
    expect(attempts).toBe(2);
    expect(hooks).toEqual(['rollback #1', 'commit #2']);
    expect((await balances(t.connection))[1]).toBe(111); // both writes, neither lost
  });

  it('when the row stays busy: RetryExhaustedError whose cause is the lock timeout', async () => {
    let finished!: () => void;
    const release = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const holder = holdAccount(release);
    await holder.isHeld;
    let attempts = 0;
    const error = await errorOf(
      atomic(
        db(),
        async (tx) => {
          attempts += 1;
          await lockWithShortWait(tx);
        },
        { retries: { retries: 1, baseDelayMs: 1 } },
      ),
    );
    finished();
    await holder.done;
    expect(attempts).toBe(2);
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect((error as RetryExhaustedError).attempts).toBe(2);
    expect(classifyError((error as RetryExhaustedError).cause)).toEqual({
      kind: 'lock_timeout',
      retryable: true,
    });
  });
});
