export { Barrier, type RaceOutcome, race } from './barrier.js';
export {
  ALL_DRIVERS,
  behindTransactionPooler,
  type ConnectOptions,
  connectTo,
  type DescribeDialectsOptions,
  type DialectContext,
  type DriverName,
  describeDialects,
  driversOfRun,
  kindOfDriver,
  MYSQL_TEST_LOCK_WAIT_SECONDS,
  type MysqlConnection,
  mysqlAdminUrl,
  mysqlGate,
  type NodePgConnection,
  type PostgresConnection,
  postgresAdminUrl,
  type TestConnection,
} from './dialect-suite.js';
export { freePort } from './free-port.js';
export { redactUrl } from './redact-url.js';
export {
  createMysqlTestDatabase,
  createPostgresTestDatabase,
  type DatabaseKind,
  DEFAULT_MYSQL_URL,
  type MysqlGate,
  probeMysql,
  type TestDatabase,
} from './test-databases.js';
export {
  describeReadme,
  type ReadmeCode,
  type ReadmeSnippet,
  readmeCode,
} from './readme-snippets.js';
