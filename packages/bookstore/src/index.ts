// @racefree/bookstore: the demo domain shared by the web app, the worker and the benchmarks.
export { bookstoreTables } from './bookstore-tables.js';
export { type BookstoreTasks, bookstoreTasks, welcomeEmailPayload } from './bookstore-tasks.js';
export {
  ConnectionRefusedError,
  connectWithRetry,
  isUnreachable,
  reconnectBackoffSeconds,
} from './connect-with-retry.js';
export {
  ConfigError,
  type DatabaseConfig,
  loadDatabaseConfig,
  redactUrl,
} from './database-config.js';
export { positiveIntegerEnv } from './positive-integer-env.js';
export { type MySqlTables, mysqlTables } from './dialects/mysql-schema.js';
export { type PostgresTables, postgresTables } from './dialects/postgres-schema.js';
export { type BookstoreEntity, NotFoundError, SoldOutError } from './errors.js';
export { listBookTags } from './list-book-tags.js';
export { listBooks } from './list-books.js';
export { listSentEmails, type SentEmail } from './list-sent-emails.js';
export { migrate } from './migrate.js';
export { purchase } from './purchase.js';
export { restock } from './restock.js';
export {
  type DatabaseServer,
  databaseServer,
  queryRows,
  runStatement,
} from './run-sql.js';
export { SEED_BOOKS, seed } from './seed.js';
export { sendWelcomeEmail, type WelcomeEmailOutcome } from './send-welcome-email.js';
export { type Customer, signUp } from './sign-up.js';
export { stockReport } from './stock-report.js';
export {
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_CALL,
  normalizeTagName,
  TAG_NAME_PATTERN,
  type TaggedBook,
  tagBook,
} from './tag-book.js';
export {
  type Book,
  type NewBook,
  PURCHASE_STRATEGIES,
  type Purchase,
  type PurchaseInput,
  type PurchaseStrategy,
  type StockReport,
} from './types.js';
