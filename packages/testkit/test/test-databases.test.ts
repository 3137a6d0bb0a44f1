import { describe, expect, it } from 'vitest';
import {
  describeDialects,
  MYSQL_TEST_LOCK_WAIT_SECONDS,
  probeMysql,
  redactUrl,
} from '../src/index.js';

describeDialects('a fresh database per test file', (t) => {
  it('is empty, and has short lock waits so deadlock tests are fast', async () => {
    if (t.kind === 'postgres') {
      const tables = await t.connection.query(
        "select count(*)::int as n from pg_tables where schemaname = 'public'",
      );
      expect(tables[0]?.n).toBe(0);
      const [row] = await t.connection.query<{ deadlock_timeout: string }>('show deadlock_timeout');
      expect(row?.deadlock_timeout).toBe('50ms');
    } else {
      const tables = await t.connection.query(
        'select count(*) as n from information_schema.tables where table_schema = database()',
      );
      expect(Number(tables[0]?.n)).toBe(0);
      const [row] = await t.connection.query<{ t: number }>(
        'select @@innodb_lock_wait_timeout as t',
      );
      expect(Number(row?.t)).toBe(MYSQL_TEST_LOCK_WAIT_SECONDS);
    }
    expect(t.database.name).toMatch(/^rf_t_/);
  });
});

describe('the MySQL gate', () => {
  const unreachable = 'mysql://root:secret@127.0.0.1:1/test';

  it('skips when the server is unreachable and CI is not set', async () => {
    const gate = await probeMysql(unreachable, { ci: false });
    expect(gate.status).toBe('skip');
  });

  it('fails when the server is unreachable and CI=true', async () => {
    const gate = await probeMysql(unreachable, { ci: true });
    expect(gate.status).toBe('fail');
    if (gate.status !== 'available') {
      expect(gate.reason).toContain('mysql://root:***@127.0.0.1:1/test');
      expect(gate.reason).not.toContain('secret');
    }
  });

  it('hides passwords in URLs it prints', () => {
    expect(redactUrl('postgres://u:hunter2@h:5432/db')).toBe('postgres://u:***@h:5432/db');
    expect(redactUrl('not a url')).toBe('<malformed URL>');
  });
});
