import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { atomic, current, onCommit, onRollback } from '../src/index.js';
import { executeStatement, onCommitNotice } from '../src/internal.js';
import { countRows, createTextTable } from './support/helpers.js';

// The on-commit behaviours Django's tests/transaction_hooks checks, on each database.
describeDialects('onCommit / onRollback', (t) => {
  const ran: string[] = [];
  const db = () => t.connection.db;
  const count = () => countRows(t.connection, 'things');

  beforeAll(async () => {
    await createTextTable(t.connection, 'things');
  });
  beforeEach(async () => {
    ran.length = 0;
    await t.connection.query('delete from things');
  });

  it('runs only after the transaction commits, after the block has exited', async () => {
    await atomic(db(), async (tx) => {
      await executeStatement(tx, sql`insert into things (name) values ('a')`);
      await onCommit(async () => {
        // The data is visible to another connection: it committed.
        ran.push(`committed rows=${await count()}`);
      });
      ran.push('body done');
    });
    expect(ran).toEqual(['body done', 'committed rows=1']);
  });

  it('never runs when the transaction rolls back', async () => {
    await expect(
      atomic(db(), async () => {
        await onCommit(() => ran.push('commit hook'));
        await onRollback(() => ran.push('rollback hook'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(ran).toEqual(['rollback hook']);
  });

  it('discards hooks of a savepoint that rolls back and keeps those of one that is released', async () => {
    await atomic(db(), async () => {
      await onCommit(() => ran.push('outer'));
      await atomic(db(), async () => {
        await onCommit(() => ran.push('kept'));
      });
      await atomic(db(), async () => {
        await onCommit(() => ran.push('discarded'));
        await onRollback(() => ran.push('savepoint rolled back'));
        throw new Error('inner');
      }).catch(() => ran.push('caught'));
      await onCommit(() => ran.push('last'));
    });
    expect(ran).toEqual(['savepoint rolled back', 'caught', 'outer', 'kept', 'last']);
  });

  it('runs at once outside a transaction, and the promise settles when it has run', async () => {
    await onCommit(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      ran.push('now');
    });
    expect(ran).toEqual(['now']);
    await expect(onCommit(() => Promise.reject(new Error('outside')))).rejects.toThrow('outside');
  });

  it('keeps registration order across nesting levels', async () => {
    await atomic(db(), async (tx) => {
      await onCommit(() => ran.push('1'));
      await atomic(tx, async () => {
        await onCommit(() => ran.push('2'));
        await atomic(db(), async () => {
          await onCommit(() => ran.push('3'));
        });
        await onCommit(() => ran.push('4'));
      });
      await onCommit(() => ran.push('5'));
    });
    expect(ran).toEqual(['1', '2', '3', '4', '5']);
  });

  it('a non-robust hook error surfaces after the data committed, and later hooks do not run', async () => {
    await expect(
      atomic(db(), async (tx) => {
        await executeStatement(tx, sql`insert into things (name) values ('kept')`);
        await onCommit(() => ran.push('first'));
        await onCommit(() => {
          throw new Error('hook failed');
        });
        await onCommit(() => ran.push('never'));
      }),
    ).rejects.toThrow('hook failed');
    expect(ran).toEqual(['first']);
    expect(await count()).toBe(1);
  });

  it('a robust hook error is logged and the rest still run', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      await atomic(db(), async () => {
        await onCommit(
          () => {
            throw new Error('robust failure');
          },
          { robust: true },
        );
        await onCommit(() => ran.push('after'));
      });
    } finally {
      console.error = original;
    }
    expect(ran).toEqual(['after']);
    expect(errors).toHaveLength(1);
  });

  it('a hook that registers a hook runs it at once (no transaction is open any more)', async () => {
    await atomic(db(), async () => {
      await onCommit(async () => {
        ran.push('outer hook');
        expect(current(db())).toBe(db());
        await onCommit(() => ran.push('inner hook'));
        ran.push('outer hook end');
      });
    });
    expect(ran).toEqual(['outer hook', 'inner hook', 'outer hook end']);
  });

  it('work through the root db inside atomic joins the transaction and rolls back with it', async () => {
    await expect(
      atomic(db(), async () => {
        await executeStatement(current(db()), sql`insert into things (name) values ('x')`);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await count()).toBe(0);
  });

  it('code left running after its block rolled back: its onCommit never runs, its onRollback runs at once', async () => {
    let blockFailed!: () => void;
    const afterRollback = new Promise<void>((resolve) => {
      blockFailed = resolve;
    });
    let leaked: Promise<void> | undefined;
    await expect(
      atomic(db(), async () => {
        leaked = (async () => {
          await afterRollback;
          // Still in the block's async context, but the block is gone: running this hook now
          // would act on data that was rolled back.
          await onCommit(() => ran.push('commit hook of rolled-back work'));
          await onRollback(() => ran.push('rollback hook of rolled-back work'));
        })();
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    blockFailed();
    await leaked;
    expect(ran).toEqual(['rollback hook of rolled-back work']);
  });

  it('onCommitNotice runs after COMMIT and before every onCommit hook, even ones registered first', async () => {
    let blockDone = false;
    await atomic(db(), async (tx) => {
      await executeStatement(tx, sql`insert into things (name) values ('n')`);
      await onCommit(() => ran.push('hook'));
      await atomic(db(), async () => {
        await onCommitNotice(async () => {
          ran.push(`notice rows=${await count()} blockDone=${blockDone}`);
        });
      });
      blockDone = true;
    });
    expect(ran).toEqual(['notice rows=1 blockDone=true', 'hook']);
  });

  it('a failing onCommit hook neither discards an onCommitNotice nor is delayed by it', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      await expect(
        atomic(db(), async () => {
          await onCommit(() => {
            throw new Error('hook failed');
          });
          await onCommitNotice(() => {
            ran.push('notice 1');
            throw new Error('notice failed');
          });
          await onCommitNotice(() => ran.push('notice 2'));
          await onCommit(() => ran.push('never'));
        }),
      ).rejects.toThrow('hook failed');
    } finally {
      console.error = original;
    }
    // The notice's own error is logged, not thrown; the hook's error is what the caller sees.
    expect(ran).toEqual(['notice 1', 'notice 2']);
    expect(errors).toHaveLength(1);
  });

  it('onCommitNotice is dropped with its savepoint or transaction, and runs at once outside one', async () => {
    await atomic(db(), async () => {
      await atomic(db(), async () => {
        await onCommitNotice(() => ran.push('rolled-back savepoint'));
        throw new Error('inner');
      }).catch(() => ran.push('caught'));
    });
    await expect(
      atomic(db(), async () => {
        await onCommitNotice(() => ran.push('rolled-back transaction'));
        throw new Error('outer');
      }),
    ).rejects.toThrow('outer');
    await onCommitNotice(() => ran.push('no transaction'));
    expect(ran).toEqual(['caught', 'no transaction']);
  });
});
