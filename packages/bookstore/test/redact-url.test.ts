import { expect, it } from 'vitest';
import { redactUrl } from '../src/index.js';

it('masks the password of a well-formed URL, keeping user, host and database', () => {
  expect(redactUrl('postgres://app:s3cret@db.internal:5432/shop')).toBe(
    'postgres://app:***@db.internal:5432/shop',
  );
  expect(redactUrl('postgres://app:p@ss@db/shop')).toBe('postgres://app:***@db/shop');
  expect(redactUrl('mysql://root@127.0.0.1:3306/test')).toBe('mysql://root@127.0.0.1:3306/test');
});

it('never prints any part of a password that makes the URL unparsable', () => {
  for (const [url, secret] of [
    ['postgres://app:pa/ss@db/shop', 'pa/ss'],
    ['postgres://app:pa#ss@db/shop', 'pa#ss'],
    ['postgres://app:pa?ss@db/shop', 'pa?ss'],
    ['mysql://app:x/y@z#w@db:3306/shop', 'x/y@z#w'],
    ['postgres://app:pa/ss@db:notaport/shop', 'pa/ss'],
  ] as const) {
    const shown = redactUrl(url);
    expect(shown).not.toContain(secret.slice(0, 2));
    expect(shown).toMatch(/^(postgres|mysql):\/\/app:\*\*\*@db/);
  }
});
