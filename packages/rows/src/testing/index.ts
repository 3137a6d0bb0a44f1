/**
 * Test seams of `@racefree/rows` — never for application code. `usePreparedStatements(false)`
 * sends every statement through the plain path (Drizzle's builders, built on each call), for the
 * same-run A/B in `pnpm bench` and the test that holds the faster path to the plain one.
 */
export { usePreparedStatements } from '../statement-cache.js';
