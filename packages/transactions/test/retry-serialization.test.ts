import { Barrier, describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  type Database,
  type IsolationLevel,
  isSerializationFailure,
  isTransient,
  onCommit,
  onRollback,
} from '../src/index.js';
import { executeRows, executeStatement } from '../src/internal.js';
import { counterValue } from './support/helpers.js';

/** Read-modify-write of one counter, the read and the write held apart by `between`. */
async function incrementCounter(tx: Database, between: () => Promise<void>): Promise<void> {
  const [row] = await executeRows<{ n: number | string }>(
    tx,
    sql`select n from counters where id = 1`,
  );
  await between();
  await executeStatement(tx, sql`update counters set n = ${Number(row?.n) + 1} where id = 1`);
}

// PostgreSQL REPEATABLE READ and SERIALIZABLE raise real serialization failures (40001) when
// two transactions are held at a barrier between their read and their write.
describeDialects(
  'retries on real serialization failures (PostgreSQL)',
  (t) => {
    const db = () => t.connection.db;
    const counter = () => counterValue(t.connection);
    const onCall = async () => {
      const [row] = await t.connection.query<{ n: string }>(
        'select count(*) as n from doctors where on_call',
      );
      return Number(row?.n);
    };

    beforeAll(async () => {
      await t.connection.query('create table counters (id int primary key, n int not null)');
      await t.connection.query(
        'create table doctors (id int primary key, on_call boolean not null)',
      );
    });
    beforeEach(async () => {
      await t.connection.query('delete from counters');
      await t.connection.query('insert into counters values (1, 0)');
      await t.connection.query('delete from doctors');
      await t.connection.query('insert into doctors values (1, true), (2, true)');
    });

    const increments = (isolationLevel: IsolationLevel, retries: number) => {
      const barrier = new Barrier(2);
      const attempts = [0, 0];
      const run = (caller: 0 | 1) =>
        atomic(
          db(),
          async (tx) => {
            attempts[caller] = (attempts[caller] ?? 0) + 1;
            const first = attempts[caller] === 1;
            await incrementCounter(tx, () => (first ? barrier.wait() : Promise.resolve()));
          },
          { isolationLevel, retries },
        );
      return { attempts, settled: Promise.allSettled([run(0), run(1)]) };
    };

    it('control: at READ COMMITTED the forced interleaving really loses an update', async () => {
      const { settled } = increments('read committed', 0);
      expect((await settled).every((s) => s.status === 'fulfilled')).toBe(true);
      expect(await counter()).toBe(1); // the harness forces the race the next tests must survive
    });

    it('REPEATABLE READ without retries: the second writer gets a serialization failure', async () => {
      const { settled } = increments('repeatable read', 0);
      const errors = (await settled).flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      expect(errors).toHaveLength(1);
      expect(isSerializationFailure(errors[0])).toBe(true);
      expect(isTransient(errors[0])).toBe(true);
      expect(classifyError(errors[0])).toEqual({ kind: 'serialization_failure', retryable: true });
      expect(await counter()).toBe(1);
    });

    it('REPEATABLE READ with retries: both increments land, the loser re-ran exactly once', async () => {
      const { settled, attempts } = increments('repeatable read', 3);
      expect((await settled).map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(await counter()).toBe(2);
      expect([...attempts].sort()).toEqual([1, 2]);
    });

    // Write skew: each doctor goes off call if the other is still on call. Each transaction
    // writes a different row, so only SERIALIZABLE can see the conflict — often at COMMIT,
    // where postgres.js raises the error unwrapped.
    const offCall = (isolationLevel: IsolationLevel, retries: number) => {
      const barrier = new Barrier(2);
      const attempts = [0, 0];
      const committed: string[] = [];
      const rolledBack: string[] = [];
      const run = (doctor: 1 | 2) =>
        atomic(
          db(),
          async (tx) => {
            const attempt = (attempts[doctor - 1] = (attempts[doctor - 1] ?? 0) + 1);
            await onCommit(() => committed.push(`${doctor}#${attempt}`));
            await onRollback(() => rolledBack.push(`${doctor}#${attempt}`));
            const [row] = await executeRows<{ n: string }>(
              tx,
              sql`select count(*) as n from doctors where on_call`,
            );
            if (attempt === 1) await barrier.wait();
            if (Number(row?.n) < 2) return 'stayed';
            await executeStatement(
              tx,
              sql`update doctors set on_call = false where id = ${doctor}`,
            );
            return 'went off call';
          },
          { isolationLevel, retries },
        );
      return { attempts, committed, rolledBack, settled: Promise.allSettled([run(1), run(2)]) };
    };

    it('control: at REPEATABLE READ (snapshot isolation) write skew leaves nobody on call', async () => {
      const { settled } = offCall('repeatable read', 0);
      expect((await settled).every((s) => s.status === 'fulfilled')).toBe(true);
      expect(await onCall()).toBe(0);
    });

    it('SERIALIZABLE without retries: one of the two fails with a serialization failure', async () => {
      const { settled } = offCall('serializable', 0);
      const errors = (await settled).flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      expect(errors).toHaveLength(1);
      expect(isSerializationFailure(errors[0])).toBe(true);
      expect(await onCall()).toBe(1);
    });

    it('SERIALIZABLE with retries: the invariant holds, hooks only from committed attempts', async () => {
      const { settled, attempts, committed, rolledBack } = offCall('serializable', 3);
      const results = (await settled).map((s) => (s.status === 'fulfilled' ? s.value : s.reason));
      expect([...results].sort()).toEqual(['stayed', 'went off call']);
      expect(await onCall()).toBe(1);
      // The survivor commits its first attempt. The victim re-runs until its snapshot holds the
      // survivor's commit: once, usually; again when the server failed it before that commit
      // and the retry began before it too (it then conflicts the same way).
      const survivor = attempts[0] === 1 ? 1 : 2;
      const victim = survivor === 1 ? 2 : 1;
      expect(attempts[survivor - 1]).toBe(1);
      const tries = attempts[victim - 1] ?? 0;
      expect(tries).toBeGreaterThanOrEqual(2);
      expect(tries).toBeLessThanOrEqual(4);
      expect([...committed].sort()).toEqual([`${survivor}#1`, `${victim}#${tries}`].sort());
      expect(rolledBack).toEqual(Array.from({ length: tries - 1 }, (_, i) => `${victim}#${i + 1}`));
    });
  },
  { kinds: ['postgres'] },
);

// MariaDB's REPEATABLE READ silently loses the update, unless innodb_snapshot_isolation=ON
// turns the stale write into error 1020 ("record has changed since last read"), which racefree
// treats as a serialization failure and retries.
describeDialects(
  'retries on MariaDB error 1020 (innodb_snapshot_isolation)',
  (t) => {
    const db = () => t.connection.db;
    let hasSnapshotIsolation = false;
    const counter = () => counterValue(t.connection);

    beforeAll(async () => {
      const rows = await t.connection.query("show variables like 'innodb_snapshot_isolation'");
      hasSnapshotIsolation = rows.length === 1;
      await t.connection.query('create table counters (id int primary key, n int not null)');
    });
    beforeEach(async () => {
      await t.connection.query('delete from counters');
      await t.connection.query('insert into counters values (1, 0)');
    });

    const increments = (snapshotIsolation: boolean, retries: number) => {
      const barrier = new Barrier(2);
      const attempts = [0, 0];
      const run = (caller: 0 | 1) =>
        atomic(
          db(),
          async (tx) => {
            attempts[caller] = (attempts[caller] ?? 0) + 1;
            const first = attempts[caller] === 1;
            // Before the first read, so the read view is checked by every later locking read.
            await executeStatement(
              tx,
              snapshotIsolation
                ? sql`set session innodb_snapshot_isolation = ON`
                : sql`set session innodb_snapshot_isolation = OFF`,
            );
            await incrementCounter(tx, () => (first ? barrier.wait() : Promise.resolve()));
          },
          { retries },
        );
      return { attempts, settled: Promise.allSettled([run(0), run(1)]) };
    };

    it('the server has innodb_snapshot_isolation (MariaDB ≥ 10.6.18 / 10.11.8)', () => {
      expect(hasSnapshotIsolation).toBe(true);
    });

    it('control: with it OFF, REPEATABLE READ loses the update without any error', async () => {
      const { settled } = increments(false, 0);
      expect((await settled).every((s) => s.status === 'fulfilled')).toBe(true);
      expect(await counter()).toBe(1);
    });

    it('with it ON and no retries: error 1020, classified as a serialization failure', async () => {
      const { settled } = increments(true, 0);
      const errors = (await settled).flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      expect(errors).toHaveLength(1);
      expect((errors[0] as { cause?: { errno?: number } }).cause?.errno).toBe(1020);
      expect(classifyError(errors[0])).toEqual({ kind: 'serialization_failure', retryable: true });
      expect(await counter()).toBe(1);
    });

    it('with it ON and retries: both increments land', async () => {
      const { settled, attempts } = increments(true, 3);
      expect((await settled).map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(await counter()).toBe(2);
      expect([...attempts].sort()).toEqual([1, 2]);
    });
  },
  { kinds: ['mysql'] },
);
