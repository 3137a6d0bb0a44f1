import { existsSync, mkdirSync } from 'node:fs';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp } from './serve-app.js';
import { withQueue } from './with-queue.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
// Each wait covers a click, a request, a transaction and a re-render: milliseconds when idle,
// seconds on a loaded two-core CI machine (expect.poll's default gives up after 1 s).
const SETTLE = { timeout: 20_000 };

if (!available && process.env.CI === 'true') {
  describe('the page in a real browser', () => {
    it('needs Debian chromium at /usr/bin/chromium (CI=true)', () => {
      throw new Error(`${CHROMIUM} is missing; .ci/run installs the chromium package`);
    });
  });
} else if (!available) {
  console.warn(
    `\n!!! SKIPPED the browser test: ${CHROMIUM} is missing (apt-get install chromium).\n`,
  );
  describe.skip('the page in a real browser', () => {});
} else {
  describeDialects(
    'the page in a real browser',
    (t) => {
      let pool: TestConnection;
      let served: Awaited<ReturnType<typeof serveApp>>;
      let browser: Browser;
      let queue: Awaited<ReturnType<typeof withQueue>>;
      let runner: Awaited<ReturnType<Awaited<ReturnType<typeof withQueue>>['startWorker']>>;
      beforeAll(async () => {
        pool = await t.connect({ max: 16 });
        queue = await withQueue(t, pool);
        runner = await queue.startWorker();
        served = await serveApp(pool, queue.signUp);
        await fetch(`${served.url}/api/books`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            isbn: '978-0-201-63361-0',
            title: 'Design Patterns',
            price: 49.5,
            quantity: 2,
          }),
        });
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          headless: true,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
      });
      afterAll(async () => {
        await browser?.close();
        await served?.close();
        await runner?.stop();
        await queue?.close();
      });

      it('loads the catalogue, signs up, buys a book, and runs the race lab', async () => {
        const page = await browser.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));
        page.on(
          'console',
          (message) => message.type() === 'error' && pageErrors.push(message.text()),
        );
        await page.goto(served.url);
        const row = page.locator('tr[data-isbn="978-0-201-63361-0"]');
        await expect.poll(() => row.locator('.stock').textContent(), SETTLE).toBe('2');
        expect(await row.getByRole('button').isDisabled()).toBe(true); // not signed up yet

        await page.getByLabel('Email').fill('reader@example.com');
        await page.getByLabel('Name').fill('Ada Reader');
        await page.getByRole('button', { name: 'Sign up' }).click();
        await expect
          .poll(() => page.locator('#who').textContent(), SETTLE)
          .toContain('Signed up as Ada Reader');
        // The worker sends the welcome email after the sign-up commits; the page polls for it.
        await expect
          .poll(() => page.locator('#mail').textContent(), SETTLE)
          .toContain('Welcome email sent by the worker');

        await page.getByLabel('Purchase strategy').selectOption('lock');
        await row.getByRole('button', { name: 'Buy Design Patterns' }).click();
        await expect
          .poll(() => page.locator('#buy-status').textContent(), SETTLE)
          .toContain('Bought "Design Patterns"');
        await expect.poll(() => row.locator('.stock').textContent(), SETTLE).toBe('1');
        const [stock] = await pool.query<{ q: number }>(
          "select quantity as q from books where isbn = '978-0-201-63361-0'",
        );
        expect(Number(stock?.q)).toBe(1);

        await page.getByLabel('Buyers').fill('60');
        await page.getByLabel('Stock').fill('40');
        await page.getByRole('button', { name: 'Run all three strategies' }).click();
        await page.locator('#lab-results[data-done="true"]').waitFor({ timeout: 60_000 });
        for (const strategy of ['lock', 'atomic']) {
          const card = page.locator(`.lab-card[data-strategy="${strategy}"]`);
          expect(await card.locator('[data-field="orders-written"]').textContent()).toBe('40');
          expect(await card.locator('[data-field="sold-out-(409)"]').textContent()).toBe('20');
          expect(await card.locator('[data-field="lost-updates"]').textContent()).toBe('0');
          expect(await card.locator('[data-field="actual-stock"]').textContent()).toBe('0');
          expect(await card.getAttribute('class')).toContain('ok');
        }
        const naive = page.locator('.lab-card[data-strategy="naive"]');
        console.info(
          `[browser] naive lab card: lost updates ${await naive.locator('[data-field="lost-updates"]').textContent()}, orders ${await naive.locator('[data-field="orders-written"]').textContent()}`,
        );

        mkdirSync('.test-results', { recursive: true });
        await page.screenshot({ path: '.test-results/bookstore-page.png', fullPage: true });
        expect(pageErrors, pageErrors.join('\n')).toEqual([]);
      }, 180_000);
    },
    { kinds: ['postgres'] },
  );
}
