export { type CaptureOptions, captureOnCommit } from './capture-on-commit.js';
export { withRollback } from './with-rollback.js';
export { setDialectForTesting } from '../dialects/detect.js';
export { mariadbDialect } from '../dialects/mariadb.js';
export { mysqlDialect } from '../dialects/mysql.js';
export { postgresDialect } from '../dialects/postgres.js';
export { parseVersion } from '../dialects/dialect.js';
