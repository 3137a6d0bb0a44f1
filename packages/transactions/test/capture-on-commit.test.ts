import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { atomic, current, onCommit } from '../src/index.js';
import { executeStatement, onCommitNotice } from '../src/internal.js';
import { captureOnCommit, withRollback } from '../src/testing/index.js';
import { countRows, createTextTable } from './support/helpers.js';

// Django's captureOnCommitCallbacks: a test's transaction never commits, so the hooks the code
// under test registers are captured instead of lost — and can be run on purpose.
describeDialects('captureOnCommit', (t) => {
  const db = () => t.connection.db;
  const ran: string[] = [];

  /** The code under test: signs someone up and registers the welcome email. */
  const signUp = (name: string) =>
    atomic(db(), async () => {
      await executeStatement(current(db()), sql`insert into users (name) values (${name})`);
      await onCommit(() => ran.push(`welcome ${name}`));
    });

  beforeAll(async () => {
    await createTextTable(t.connection, 'users');
  });
  beforeEach(async () => {
    ran.length = 0;
    await t.connection.query('delete from users');
  });

  it('returns the hooks registered inside withRollback, in order, without running them', async () => {
    const first = () => ran.push('first');
    const hooks = await captureOnCommit(() =>
      withRollback(db(), async () => {
        await onCommit(first);
        await signUp('ann');
        await signUp('bob');
      }),
    );
    expect(hooks).toHaveLength(3);
    expect(hooks[0]).toBe(first);
    expect(ran).toEqual([]);
    for (const hook of hooks) await hook();
    expect(ran).toEqual(['first', 'welcome ann', 'welcome bob']);
    expect(await countRows(t.connection, 'users')).toBe(0);
  });

  it('leaves out hooks of savepoints that rolled back', async () => {
    const hooks = await captureOnCommit(() =>
      withRollback(db(), async () => {
        await signUp('kept');
        await atomic(db(), async () => {
          await onCommit(() => ran.push('discarded'));
          throw new Error('savepoint rolls back');
        }).catch(() => undefined);
      }),
    );
    expect(hooks).toHaveLength(1);
    await hooks[0]?.();
    expect(ran).toEqual(['welcome kept']);
  });

  it('execute: true runs them once, in order, after fn — and they never run again', async () => {
    await atomic(db(), async () => {
      const hooks = await captureOnCommit(
        async () => {
          await onCommit(() => ran.push('a'));
          await onCommit(() => ran.push('b'));
          expect(ran).toEqual([]); // not before fn has finished
        },
        { execute: true },
      );
      expect(hooks).toHaveLength(2);
      expect(ran).toEqual(['a', 'b']);
    });
    // The surrounding block committed: the executed hooks were not run a second time.
    expect(ran).toEqual(['a', 'b']);
    // Nor does a later capture return them.
    expect(await captureOnCommit(async () => {})).toEqual([]);
  });

  it('leaves out hooks that already ran: a block that really committed, or no block at all', async () => {
    const hooks = await captureOnCommit(async () => {
      await signUp('committed'); // outermost: commits, its hook runs at once
      await onCommit(() => ran.push('no transaction'));
    });
    expect(hooks).toEqual([]);
    expect(ran).toEqual(['welcome committed', 'no transaction']);
    expect(await countRows(t.connection, 'users')).toBe(1);
  });

  it('with execute: true a failing hook’s error reaches the test, and later hooks do not run', async () => {
    await expect(
      captureOnCommit(
        () =>
          withRollback(db(), async () => {
            await onCommit(() => {
              throw new Error('mail server down');
            });
            await onCommit(() => ran.push('after'));
          }),
        { execute: true },
      ),
    ).rejects.toThrow('mail server down');
    expect(ran).toEqual([]);
  });

  it('captures only its own async context: two captures side by side do not mix', async () => {
    const [left, right] = await Promise.all([
      captureOnCommit(() => withRollback(db(), () => signUp('left'))),
      captureOnCommit(() => withRollback(db(), () => signUp('right'))),
    ]);
    expect(left).toHaveLength(1);
    expect(right).toHaveLength(1);
    await left[0]?.();
    await right[0]?.();
    expect(ran).toEqual(['welcome left', 'welcome right']);
  });

  it('an inner capture with execute: true takes its hooks from the outer capture', async () => {
    const outer = await captureOnCommit(() =>
      withRollback(db(), async () => {
        await onCommit(() => ran.push('outer'));
        await captureOnCommit(() => onCommit(() => ran.push('inner')), { execute: true });
      }),
    );
    expect(ran).toEqual(['inner']);
    expect(outer).toHaveLength(1);
  });

  it('never captures an onCommitNotice (the library’s plumbing), nor runs it on execute: true', async () => {
    const hooks = await captureOnCommit(
      () =>
        withRollback(db(), async () => {
          await onCommitNotice(() => ran.push('notice'));
          await signUp('cy');
        }),
      { execute: true },
    );
    expect(hooks).toHaveLength(1);
    expect(ran).toEqual(['welcome cy']);
  });
});
