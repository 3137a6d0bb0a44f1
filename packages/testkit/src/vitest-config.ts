import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

// Built, the setup sits beside this file as .js; run from source (the testkit's own tests), as .ts.
const globalSetup = ['./global-setup.js', './global-setup.ts']
  .map((file) => fileURLToPath(new URL(file, import.meta.url)))
  .find((file) => existsSync(file));

// No 'import' here: Vitest hands these to Node as --conditions, and Node's require() would then
// pick packages' ESM builds (pg-pool's breaks `new pg.Pool()`).
const conditions = ['@racefree/source', 'module', 'node', 'default'];

/**
 * The shared Vitest config: workspace packages resolved from source, the testkit global setup
 * (one PostgreSQL per run), and a JSON report per package that the root script totals.
 */
export function racefreeVitestConfig(
  overrides: { testTimeout?: number; include?: string[]; drivers?: readonly string[] } = {},
): ViteUserConfig {
  // An app's suites run on the drivers the app itself runs on (the libraries' suites cover
  // every driver); RACEFREE_DRIVERS, when set, narrows that further.
  const wanted = process.env.RACEFREE_DRIVERS?.split(',').map((name) => name.trim());
  const drivers = overrides.drivers?.filter((name) => !wanted || wanted.includes(name));
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      include: overrides.include ?? ['test/**/*.test.ts', 'src/**/*.test.ts'],
      globalSetup: globalSetup ? [globalSetup] : [],
      testTimeout: overrides.testTimeout ?? 30_000,
      ...(drivers ? { env: { RACEFREE_DRIVERS: drivers.join(',') } } : {}),
      hookTimeout: 60_000,
      pool: 'forks',
      maxWorkers: 2,
      reporters: ['default', ['json', { outputFile: '.test-results/vitest.json' }]],
    },
  });
}
