import type { Database } from '@racefree/transactions';
import { describeDialects, type PostgresConnection } from '@racefree/testkit';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { conflictRate } from '../src/conflict-rate.js';
import { getOrCreate } from '../src/index.js';
import { pinPreferCreate } from './pin-prefer-create.js';
import { createTables, type Tables } from './schema.js';

// prefer: 'create' on PostgreSQL sends one of two statements (see conflictRate): a bare
// INSERT … ON CONFLICT DO NOTHING while conflicts on the key are rare, an insert-or-select CTE
// once they are common. When another transaction holds an uncommitted row with the key, either
// statement waits for it; once it commits, the statement's snapshot cannot see the row. racefree
// then reads it with one fresh statement — two in all, like the hand-written INSERT … ON
// CONFLICT + SELECT.
describeDialects(
  'prefer create, when the winner commits while the insert waits',
  (t) => {
    let T: Tables;
    let logged: string[];
    let waiter: PostgresConnection;
    beforeAll(async () => {
      T = await createTables(t.connection);
      logged = [];
      waiter = (await t.connect({
        max: 1,
        logger: { logQuery: (query) => logged.push(query) },
      })) as PostgresConnection;
    });
    afterEach(() => {
      vi.restoreAllMocks();
    });
    afterAll(async () => {
      pinPreferCreate(T.tags, { name: 'any' }, undefined);
      await waiter?.close();
    });

    const modes = [
      {
        statement: 'bare insert',
        combined: false,
        first: /^insert into "tags"/,
        pattern: 'insert into "tags"%',
        // The bare INSERT cannot tell a row that raced it from one that was there before.
        noted: 'taken',
      },
      {
        statement: 'insert-or-select',
        combined: true,
        first: /^with inserted as/,
        pattern: 'with inserted as%',
        // It saved nothing: conflictRate must not count this as a find (see KeyOutcome).
        noted: 'raced',
      },
    ] as const;
    it.each(modes)(
      '$statement: returns the winner row, not created, in two statements',
      async (mode) => {
        const blocker = t.connection as PostgresConnection;
        const db = waiter.db as Database;
        // Warm the dialect probe so only getOrCreate's own statements are logged below.
        await getOrCreate(db, T.tags, { where: { name: 'warm' } });
        pinPreferCreate(T.tags, { name: 'contended' }, mode.combined);
        // The waiter's pool holds one connection: its backend is the one to watch (other test
        // files send the same statement text at the same time).
        const [backend] = await waiter.client<{ pid: number }[]>`select pg_backend_pid() as pid`;
        await blocker.client`delete from tags where name = 'contended'`;
        logged.length = 0;
        const note = vi.spyOn(conflictRate, 'note');
        let pending: ReturnType<typeof getOrCreate> | undefined;
        let winnerId = 0;
        await blocker.client.begin(async (tx) => {
          const [row] = await tx<
            { id: number }[]
          >`insert into tags (name, hits) values ('contended', 7) returning id`;
          winnerId = Number(row?.id);
          pending = getOrCreate(db, T.tags, {
            where: { name: 'contended' },
            defaults: { hits: 1 },
            prefer: 'create',
          });
          // Commit only once the waiter's statement is blocked on our row's key.
          for (;;) {
            const [blocked] = await t.connection.query<{ n: string }>(
              "select count(*) as n from pg_stat_activity where pid = $1 and wait_event_type = 'Lock' and query like $2",
              [backend?.pid, mode.pattern],
            );
            if (Number(blocked?.n) > 0) break;
            await new Promise((resolve) => setImmediate(resolve));
          }
        });
        const result = await (pending as ReturnType<typeof getOrCreate>);
        expect(result.created).toBe(false);
        expect(result.row).toMatchObject({ id: winnerId, name: 'contended', hits: 7 });
        expect(logged).toHaveLength(2);
        expect(logged[0]).toMatch(mode.first);
        expect(logged[1]).toMatch(/^select /);
        expect(note.mock.calls.map(([, outcome]) => outcome)).toEqual([mode.noted]);
      },
    );

    it.each(modes)(
      '$statement: notes a new row as created and a row that was there as existed (or taken)',
      async (mode) => {
        const db = waiter.db as Database;
        await getOrCreate(db, T.tags, { where: { name: 'warm' } });
        pinPreferCreate(T.tags, { name: 'noted' }, mode.combined);
        await (t.connection as PostgresConnection).client`delete from tags where name = 'noted'`;
        const note = vi.spyOn(conflictRate, 'note');
        const options = { where: { name: 'noted' }, prefer: 'create' } as const;
        expect((await getOrCreate(db, T.tags, options)).created).toBe(true);
        expect((await getOrCreate(db, T.tags, options)).created).toBe(false);
        expect(note.mock.calls.map(([, outcome]) => outcome)).toEqual([
          'created',
          mode.combined ? 'existed' : 'taken',
        ]);
      },
    );
  },
  { drivers: ['postgres-js'] },
);
