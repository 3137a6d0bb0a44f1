/**
 * Test seams of `@racefree/rows` — never for application code. Each turns one faster path off,
 * for the same-run A/B in `pnpm bench` and the test that holds it to the plain path:
 * `usePreparedStatements(false)` sends every statement through Drizzle's builders, built on each
 * call; `useRecordSets(false)` sends getOrCreateMany's PostgreSQL batches one parameter per value.
 */
export { useRecordSets } from '../dialects/record-set-statements.js';
export { usePreparedStatements } from '../statement-cache.js';
