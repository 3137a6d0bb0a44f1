import { describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  CommitOutcomeUnknownError,
  classifyError,
  isConnectionLost,
  onCommit,
  onRollback,
  RacefreeError,
  RetryExhaustedError,
} from '../src/index.js';
import { executeStatement, onCommitNotice } from '../src/internal.js';
import { connectionIdOf, countRows, errorOf, waitFor } from './support/helpers.js';

// COMMIT is made to be in flight for as long as the test needs: a DEFERRABLE INITIALLY DEFERRED
// constraint trigger runs at COMMIT and sleeps. Another connection watches pg_stat_activity
// until that backend is sleeping inside COMMIT, then terminates it. No timer decides anything.
describeDialects(
  'a connection lost while COMMIT is in flight',
  (t) => {
    // The blocks run on a pool of their own (closed with the suite, without waiting long:
    // postgres.js never settles a query that was in flight when its connection was reset).
    let victims: TestConnection;
    const db = () => victims.db;

    beforeAll(async () => {
      victims = await t.connect({ max: 2 });
      await t.connection.query('create table slow_commit (id serial primary key, note text)');
      await t.connection.query(`
        create function slow_commit_sleep() returns trigger language plpgsql as $$
        begin
          -- At COMMIT: sleep "forever"; the test terminates this backend while it sleeps.
          perform pg_sleep(60);
          return null;
        end $$`);
      await t.connection.query(`
        create constraint trigger slow_commit_at_commit
          after insert on slow_commit deferrable initially deferred
          for each row when (new.note = 'sleep at commit')
          execute function slow_commit_sleep()`);
      await t.connection.query(`
        create function fail_commit_once() returns trigger language plpgsql as $$
        begin
          -- At COMMIT: a serialization failure, as SERIALIZABLE raises at commit time.
          raise exception 'could not serialize access (raised at commit by the test)'
            using errcode = '40001';
        end $$`);
      await t.connection.query(`
        create constraint trigger slow_commit_fail_at_commit
          after insert on slow_commit deferrable initially deferred
          for each row when (new.note = 'fail at commit')
          execute function fail_commit_once()`);
    });
    beforeEach(async () => {
      await t.connection.query('delete from slow_commit');
    });

    /** Terminates backend `pid` once it is sleeping inside COMMIT. */
    async function terminateDuringCommit(pid: () => number | undefined): Promise<void> {
      await waitFor('the backend to sleep inside COMMIT', async () => {
        const id = pid();
        if (id === undefined) return false;
        const rows = await t.connection.query(
          "select 1 from pg_stat_activity where pid = $1 and wait_event = 'PgSleep' and query ilike 'commit%'",
          [id],
        );
        return rows.length === 1;
      });
      const [row] = await t.connection.query<{ ok: boolean }>(
        'select pg_terminate_backend($1) as ok',
        [pid()],
      );
      expect(row?.ok).toBe(true);
    }

    it('raises CommitOutcomeUnknownError, never retries (the body ran once), runs no hook, only notices', async () => {
      let runs = 0;
      let pid: number | undefined;
      const hooks: string[] = [];
      const outcome = errorOf(
        atomic(
          db(),
          async (tx) => {
            runs += 1;
            pid = await connectionIdOf(tx, 'postgres');
            await executeStatement(
              tx,
              sql`insert into slow_commit (note) values ('sleep at commit')`,
            );
            await onCommit(() => hooks.push('commit'));
            await onRollback(() => hooks.push('rollback'));
            await onCommitNotice(() => hooks.push('notice'));
          },
          { retries: 5 },
        ),
      );
      await terminateDuringCommit(() => pid);
      const error = await outcome;

      expect(error).toBeInstanceOf(CommitOutcomeUnknownError);
      expect(error).toBeInstanceOf(RacefreeError);
      expect(error).not.toBeInstanceOf(RetryExhaustedError);
      expect((error as CommitOutcomeUnknownError).code).toBe('COMMIT_OUTCOME_UNKNOWN');
      expect((error as Error).message).toMatch(/may or may not have committed/);
      const cause = (error as { cause?: unknown }).cause;
      expect(isConnectionLost(cause)).toBe(true);
      expect(classifyError(cause).retryable).toBe(false);
      expect(runs).toBe(1);
      // Neither hook: the outcome is unknown, and each would act on a guess. A notice is
      // harmless either way (and needed if the data committed), so it runs.
      expect(hooks).toEqual(['notice']);
      // Here the answer is known — the trigger never finished, so COMMIT did not happen — but
      // the client cannot know that in general, which is the point of the error.
      expect(await countRows(t.connection, 'slow_commit')).toBe(0);
    });

    it('the pool recovers: the next block on the same db commits normally', async () => {
      await atomic(db(), async (tx) => {
        await executeStatement(tx, sql`insert into slow_commit (note) values ('fine')`);
      });
      expect(await countRows(t.connection, 'slow_commit')).toBe(1);
    });

    it('an error raised by COMMIT on a live connection is a known outcome: a serialization failure there is retried', async () => {
      let runs = 0;
      const hooks: number[] = [];
      const result = await atomic(
        db(),
        async (tx) => {
          runs += 1;
          const run = runs;
          await executeStatement(
            tx,
            run === 1
              ? sql`insert into slow_commit (note) values ('fail at commit')`
              : sql`insert into slow_commit (note) values ('second run')`,
          );
          await onCommit(() => hooks.push(run));
          return run;
        },
        { retries: 2 },
      );
      expect(result).toBe(2);
      expect(runs).toBe(2);
      expect(hooks).toEqual([2]);
      const notes = await t.connection.query<{ note: string }>('select note from slow_commit');
      expect(notes.map((r) => r.note)).toEqual(['second run']);
    });
  },
  { kinds: ['postgres'] },
);
