import { describeDialects } from '@racefree/testkit';
import { getTableConfig as mysqlTableConfig } from 'drizzle-orm/mysql-core';
import { getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import { beforeAll, expect, it } from 'vitest';
import { installOutbox, OUTBOX_TABLE_NAME, outboxTable, pgOutboxTable } from '../src/index.js';

/**
 * The exported Drizzle tables describe the table `installOutbox` creates, so a drizzle-kit
 * schema that owns the outbox produces the same columns the relay reads and enqueue writes.
 */
describeDialects('the exported outbox table', (t) => {
  beforeAll(async () => {
    await installOutbox(t.connection.db);
  });

  it('has the columns, nullability and key of the installed table', async () => {
    const config =
      t.kind === 'postgres' ? pgTableConfig(pgOutboxTable) : mysqlTableConfig(outboxTable);
    expect(config.name).toBe(OUTBOX_TABLE_NAME);
    const declared = config.columns
      .map((column) => ({
        name: column.name,
        nullable: !column.notNull,
        primaryKey: column.primary,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const installed = await t.connection.query<{
      name: string;
      nullable: string;
      key: string | null;
    }>(
      t.kind === 'postgres'
        ? `select c.column_name as name, c.is_nullable as nullable,
                  (select 'PRI' from information_schema.key_column_usage k
                    where k.table_name = c.table_name and k.column_name = c.column_name
                      and k.table_schema = c.table_schema limit 1) as key
             from information_schema.columns c
            where c.table_name = $1 and c.table_schema = current_schema()`
        : `select column_name as name, is_nullable as nullable, column_key as \`key\`
             from information_schema.columns where table_name = ? and table_schema = database()`,
      [OUTBOX_TABLE_NAME],
    );
    expect(
      installed
        .map((column) => ({
          name: column.name,
          nullable: column.nullable === 'YES',
          primaryKey: column.key === 'PRI',
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(declared);
  });
});
