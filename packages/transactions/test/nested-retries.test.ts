import { Barrier, describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  type Database,
  isDeadlock,
  onCommit,
  RacefreeError,
  RetryExhaustedError,
} from '../src/index.js';
import { executeStatement } from '../src/internal.js';
import { withRollback } from '../src/testing/index.js';
import {
  balances,
  countRows,
  createBallast,
  createTextTable,
  deadlockingPartner,
  errorOf,
  resetAccounts,
  transfer,
} from './support/helpers.js';

// A library function that asks for retries, as any careful caller would. Retrying is the
// outermost block's job: nested, it must neither retry on its own (the transaction it would
// re-run is not its own) nor break, and the transient error must reach the outermost block.
describeDialects('retries on a nested block are left to the outermost block', (t) => {
  const db = () => t.connection.db;
  let innerRuns = 0;

  /** Moves money in a block of its own that asks for retries. */
  const transferWithRetries = (
    on: Database,
    from: number,
    to: number,
    amount: number,
    between: () => Promise<void>,
  ) =>
    atomic(
      on,
      async (tx) => {
        innerRuns += 1;
        await transfer(tx, from, to, amount, between);
      },
      { retries: 5 },
    );

  let partners: TestConnection;

  beforeAll(async () => {
    partners = await t.connect({ max: 2 });
    await createBallast(t.connection);
    await resetAccounts(t.connection);
    await createTextTable(t.connection, 'audit', 'note');
  });
  beforeEach(async () => {
    innerRuns = 0;
    await resetAccounts(t.connection);
    await t.connection.query('delete from audit');
  });

  it('inside an outer block with retries: the deadlock reaches the outer block, which re-runs everything', async () => {
    const barrier = new Barrier(2);
    const outerRuns = { a: 0, b: 0 };
    const hooks: string[] = [];
    const request = (name: 'a' | 'b', from: number, to: number, amount: number) =>
      atomic(
        db(),
        async (tx) => {
          outerRuns[name] += 1;
          const attempt = outerRuns[name];
          await executeStatement(
            tx,
            sql`insert into audit (note) values (${`${name}#${attempt}`})`,
          );
          await onCommit(() => hooks.push(`${name}#${attempt}`));
          // Called with the root db: it joins this transaction as a savepoint.
          await transferWithRetries(db(), from, to, amount, () =>
            attempt === 1 ? barrier.wait() : Promise.resolve(),
          );
        },
        { retries: 3 },
      );
    await Promise.all([request('a', 1, 2, 10), request('b', 2, 1, 5)]);

    expect(await balances(t.connection)).toEqual({ 1: 95, 2: 105 });
    expect(outerRuns.a + outerRuns.b).toBe(3); // one outer re-run for the one deadlock
    expect(innerRuns).toBe(3); // the nested block never re-ran on its own
    const victim = outerRuns.a === 2 ? 'a' : 'b';
    const survivor = victim === 'a' ? 'b' : 'a';
    // The victim's first attempt left no audit row and no hook.
    const notes = await t.connection.query<{ note: string }>('select note from audit');
    expect(notes.map((r) => r.note).sort()).toEqual([`${survivor}#1`, `${victim}#2`].sort());
    expect(hooks.sort()).toEqual([`${survivor}#1`, `${victim}#2`].sort());
  });

  it('without retries outside: the deadlock itself propagates out of the nested block, never a savepoint error', async () => {
    const barrier = new Barrier(2);
    const settled = await Promise.allSettled([
      atomic(db(), (tx) => transferWithRetries(tx, 1, 2, 10, () => barrier.wait())),
      atomic(db(), (tx) => transferWithRetries(tx, 2, 1, 5, () => barrier.wait())),
    ]);
    const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(errors).toHaveLength(1);
    // On MySQL/MariaDB the deadlock already rolled the whole transaction back, so the nested
    // block's ROLLBACK TO SAVEPOINT failed with "SAVEPOINT sp1 does not exist"; atomic must
    // surface the deadlock, which is what tells the caller to retry.
    expect(isDeadlock(errors[0])).toBe(true);
    expect(errors[0]).not.toBeInstanceOf(RetryExhaustedError);
    expect(String((errors[0] as Error).message)).not.toMatch(/savepoint/i);
    expect(innerRuns).toBe(2);
    expect(Object.values(await balances(t.connection)).reduce((a, b) => a + b)).toBe(200);
  });

  it('inside withRollback: a retrying function works, and its data never persists', async () => {
    const result = await withRollback(db(), async (tx) => {
      await transferWithRetries(tx, 1, 2, 30, async () => {});
      return balances(t.connection); // another connection: sees nothing uncommitted
    });
    expect(result).toEqual({ 1: 100, 2: 100 });
    expect(innerRuns).toBe(1);
    expect(await balances(t.connection)).toEqual({ 1: 100, 2: 100 });
  });

  it('inside withRollback: a deadlock propagates as itself and the nested block ran once', async () => {
    const partner = deadlockingPartner({ kind: t.kind, partners, observer: t.connection });
    const error = await errorOf(
      withRollback(db(), () => transferWithRetries(db(), 1, 2, 10, partner.meet)),
    );
    await partner.done;
    expect(isDeadlock(error)).toBe(true);
    expect(error).not.toBeInstanceOf(RetryExhaustedError);
    expect(innerRuns).toBe(1);
    expect(await balances(t.connection)).toEqual({ 1: 105, 2: 95 }); // the partner's transfer only
  });

  it('a nested deadlock caught inside the outer block: PostgreSQL keeps the outer work, MariaDB re-runs the block', async () => {
    let outerRuns = 0;
    const hooks: string[] = [];
    const caught: unknown[] = [];
    const partnerRuns: Promise<void>[] = [];
    const result = await atomic(
      db(),
      async (tx) => {
        outerRuns += 1;
        const attempt = outerRuns;
        await executeStatement(tx, sql`insert into audit (note) values (${`before#${attempt}`})`);
        await onCommit(() => hooks.push(`outer#${attempt}`));
        const partner =
          attempt === 1
            ? deadlockingPartner({ kind: t.kind, partners, observer: t.connection })
            : undefined;
        if (partner) partnerRuns.push(partner.done);
        try {
          await transferWithRetries(tx, 1, 2, 10, partner?.meet ?? (async () => {}));
        } catch (error) {
          caught.push(error); // "the transfer failed; carry on without it"
        }
        return attempt;
      },
      { retries: 2 },
    );
    await Promise.all(partnerRuns);
    expect(caught).toHaveLength(1);
    expect(isDeadlock(caught[0])).toBe(true);
    const notes = (await t.connection.query<{ note: string }>('select note from audit')).map(
      (r) => r.note,
    );
    if (t.kind === 'postgres') {
      // ROLLBACK TO SAVEPOINT undid the nested block only; the outer block's own work is
      // intact and commits, as its author chose.
      expect(result).toBe(1);
      expect(notes).toEqual(['before#1']);
      expect(hooks).toEqual(['outer#1']);
      expect(await balances(t.connection)).toEqual({ 1: 105, 2: 95 });
    } else {
      // The deadlock rolled back the whole transaction, 'before#1' included, and left the
      // connection outside any transaction. Committing would report success for work that is
      // gone: the outer block fails with the deadlock and, asked to retry, re-runs whole.
      expect(result).toBe(2);
      expect(notes).toEqual(['before#2']);
      expect(hooks).toEqual(['outer#2']);
      expect(await balances(t.connection)).toEqual({ 1: 95, 2: 105 });
    }
  });

  // Only InnoDB loses the whole transaction to a deadlock; on PostgreSQL the savepoint holds
  // (the test above shows it), so these are declared for MySQL/MariaDB only.
  const itOnMysql = t.kind === 'mysql' ? it : () => {};

  itOnMysql(
    'the broken transaction is refused without retries too — the deadlock is thrown, no hook runs',
    async () => {
      const hooks: string[] = [];
      const partner = deadlockingPartner({ kind: t.kind, partners, observer: t.connection });
      const error = await errorOf(
        atomic(db(), async (tx) => {
          await executeStatement(tx, sql`insert into audit (note) values ('lost')`);
          await onCommit(() => hooks.push('outer'));
          await transferWithRetries(tx, 1, 2, 10, partner.meet).catch(() => undefined);
          return 'carried on';
        }),
      );
      await partner.done;
      expect(isDeadlock(error)).toBe(true);
      expect(classifyError(error).retryable).toBe(true);
      expect(hooks).toEqual([]);
      expect(await countRows(t.connection, 'audit')).toBe(0);
    },
  );

  itOnMysql(
    'a nested block opened after the transaction broke is refused before it runs',
    async () => {
      const partner = deadlockingPartner({ kind: t.kind, partners, observer: t.connection });
      let refused: unknown;
      let ran = false;
      const error = await errorOf(
        atomic(db(), async (tx) => {
          await transferWithRetries(tx, 1, 2, 10, partner.meet).catch(() => undefined);
          refused = await errorOf(
            atomic(tx, async () => {
              ran = true;
            }),
          );
        }),
      );
      await partner.done;
      expect(ran).toBe(false);
      expect(refused).toBeInstanceOf(RacefreeError);
      expect((refused as RacefreeError).code).toBe('TRANSACTION_ABORTED');
      expect(isDeadlock(refused)).toBe(true); // its cause is the deadlock
      expect(isDeadlock(error)).toBe(true);
      expect(await countRows(t.connection, 'audit')).toBe(0);
    },
  );
});
