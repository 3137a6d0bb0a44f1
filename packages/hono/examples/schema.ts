// A drizzle-kit schema file that owns the idempotency table (the README shows it; the tests
// import it). drizzle-kit generates a migration creating what installIdempotency(db) creates.
// #region schema
export { pgIdempotencyTable } from '@racefree/hono'; // or mysqlIdempotencyTable on MySQL/MariaDB
// #endregion schema
export { payments } from './payments-app.js';
