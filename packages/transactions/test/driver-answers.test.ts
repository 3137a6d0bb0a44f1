import { describeDialects } from '@racefree/testkit';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { classifyError } from '../src/index.js';
import { execute, executeRows, executeStatement, familyOf } from '../src/internal.js';

// Every driver answers db.execute in its own shape (postgres.js: the rows; node-postgres: a
// QueryResult; mysql2: [rows or header, fields]); racefree reads them alike.
describeDialects('statements answer alike on every driver', (t) => {
  beforeAll(async () => {
    await t.connection.query(
      t.kind === 'postgres'
        ? 'create table notes (id serial primary key, body text not null unique)'
        : 'create table notes (id int auto_increment primary key, body varchar(50) not null unique)',
    );
  });

  it('rows of a read, counts of a write, the generated id on MySQL', async () => {
    const db = t.connection.db;
    expect(familyOf(db)).toBe(t.kind);
    const inserted = await execute(db, sql`insert into notes (body) values (${'a'}), (${'b'})`);
    expect(inserted.rowCount).toBe(2);
    expect(inserted.insertId).toEqual(t.kind === 'mysql' ? expect.any(Number) : undefined);
    const rows = await executeRows<{ body: string }>(
      db,
      sql`select body from notes where body in (${'a'}, ${'b'}) order by body`,
    );
    expect(rows.map((row) => ({ ...row }))).toEqual([{ body: 'a' }, { body: 'b' }]);
    expect(await executeStatement(db, sql`update notes set body = body where body = ${'a'}`)).toBe(
      1,
    );
    expect(await executeStatement(db, sql`delete from notes where body = ${'nothing'}`)).toBe(0);
    expect((await execute(db, sql`select 1 as one where 1 = 0`)).rows).toEqual([]);
  });

  it("fails as Drizzle's own path fails: DrizzleQueryError, the driver's error as cause", async () => {
    const error = await executeStatement(
      t.connection.db,
      sql`insert into notes (body) values (${'dup'}), (${'dup'})`,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrizzleQueryError);
    expect((error as DrizzleQueryError).cause).toBeInstanceOf(Error);
    expect(classifyError(error).kind).toBe('unique_violation');
  });
});
