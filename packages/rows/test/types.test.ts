import type { Database } from '@racefree/transactions';
import { describe, expectTypeOf, it } from 'vitest';
import {
  getOrCreate,
  lockRows,
  refresh,
  type RowResult,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';
import { mysqlTables, pgTables } from './schema.js';

// Compile-time checks (the package typecheck enforces them; at run time they are no-ops).
/** Never called: the checks inside are compiled, not run (there is no database here). */
const compileOnly = (checks: (db: Database) => void) => expectTypeOf(checks).toBeFunction();
type PgTag = typeof pgTables.tags.$inferSelect;
type MyTag = typeof mysqlTables.tags.$inferSelect;

describe('types', () => {
  it('rows are typed from the Drizzle table, on both dialects', () => {
    compileOnly((db) => {
      expectTypeOf(getOrCreate(db, pgTables.tags, { where: { name: 'x' } })).resolves.toEqualTypeOf<
        RowResult<PgTag>
      >();
      expectTypeOf(
        getOrCreate(db, mysqlTables.tags, { where: { name: 'x' } }),
      ).resolves.toEqualTypeOf<RowResult<MyTag>>();
      expectTypeOf(
        updateOrCreate(db, pgTables.tags, { where: { name: 'x' }, set: { color: 'red' } }),
      ).resolves.toEqualTypeOf<RowResult<PgTag>>();
      expectTypeOf(lockRows(db, pgTables.accounts, [1, 2])).resolves.toEqualTypeOf<
        (typeof pgTables.accounts.$inferSelect)[]
      >();
      expectTypeOf(refresh(db, pgTables.tags, {} as PgTag)).resolves.toEqualTypeOf<PgTag>();
    });
  });

  it('skipLocked widens the result to a possibly skipped row', () => {
    compileOnly((db) => {
      expectTypeOf(
        selectForUpdateOrCreate(db, pgTables.tags, { where: { name: 'x' }, skipLocked: true }),
      ).resolves.toEqualTypeOf<
        RowResult<PgTag> | { row: undefined; created: false; skipped: true }
      >();
    });
  });

  it('where, defaults and set only accept columns of the table, with their types', () => {
    compileOnly((db) => {
      // @ts-expect-error not a column
      void getOrCreate(db, pgTables.tags, { where: { nope: 1 } });
      // @ts-expect-error wrong type for the column
      void getOrCreate(db, pgTables.tags, { where: { name: 42 } });
      // @ts-expect-error defaults must be columns too
      void getOrCreate(db, pgTables.tags, { where: { name: 'x' }, defaults: { colour: 'red' } });
      // @ts-expect-error refresh lock modes are update and share
      void refresh(db, pgTables.tags, {} as PgTag, { lock: 'key share' });
    });
  });
});
