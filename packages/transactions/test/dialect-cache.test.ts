import { describeDialects } from '@racefree/testkit';
import { expect, it } from 'vitest';
import { atomic, dialectOf } from '../src/index.js';

describeDialects('the dialect probe', (t) => {
  it('runs once per root database: a transaction atomic() opened shares the root answer, with no query', async () => {
    const statements: string[] = [];
    const counted = await t.connect({ max: 2, logger: { logQuery: (q) => statements.push(q) } });
    const root = await dialectOf(counted.db);
    const probes = statements.length;
    expect(probes).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      await atomic(counted.db, async (tx) => {
        const before = statements.length;
        expect(await dialectOf(tx)).toBe(root);
        expect(statements.length).toBe(before);
      });
    }
    expect(await dialectOf(counted.db)).toBe(root);
  });
});
