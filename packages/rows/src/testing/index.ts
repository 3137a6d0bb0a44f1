/**
 * Test seams of `@racefree/rows` — never for application code. Each turns one faster path off,
 * for the same-run A/B in `pnpm bench` and the test that holds it to the plain path:
 * `usePreparedStatements(false)` sends every statement through Drizzle's builders, built on each
 * call; `useRecordSets(false)` sends getOrCreateMany's PostgreSQL batches one parameter per value;
 * `useInsertBlocks(false)` sends its MariaDB inserts one statement per row, as on MySQL.
 */
export { useInsertBlocks } from '../dialects/insert-block.js';
export { useRecordSets } from '../dialects/record-set-statements.js';
export { usePreparedStatements } from '../statement-cache.js';
