import { atLeast, type Dialect, type IsolationLevel, type ServerVersion } from './dialect.js';
import { mysqlFamilyLockClause, quoteBacktick } from './mysql.js';

/**
 * MariaDB: `LOCK IN SHARE MODE` (it rejects `FOR SHARE`), NOWAIT from 10.3, SKIP LOCKED from
 * 10.6, no `FOR UPDATE OF`, and anonymous compound statements (`BEGIN NOT ATOMIC`, with
 * `@@in_transaction` from 10.3).
 */
export function mariadbDialect(
  version: ServerVersion,
  defaultIsolationLevel: IsolationLevel,
): Dialect {
  return {
    kind: 'mariadb',
    version,
    defaultIsolationLevel,
    lockModes: ['update', 'share'],
    supportsNoWait: atLeast(version, 10, 3),
    supportsSkipLocked: atLeast(version, 10, 6),
    supportsLockOf: false,
    supportsAnonymousBlocks: atLeast(version, 10, 3),
    lockClause(mode, options = {}) {
      return mysqlFamilyLockClause(this, mode, options, 'LOCK IN SHARE MODE');
    },
    quoteIdentifier: quoteBacktick,
  };
}
