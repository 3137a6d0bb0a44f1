/** Configuration a retry cannot fix (a malformed URL, a missing variable): the message is the one line the app prints. */
export class ConfigError extends Error {}

/**
 * `url` with its password replaced by `***`, for logs and messages. Works on malformed URLs
 * too (from the user name's ':' to the last `@`), since those are exactly the ones reported.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // Unparsable — often because the password holds a '/', '#' or '?' left unescaped, so no
    // pattern can tell where it ends. A user name holds no ':', so the password runs from the
    // first ':' after '//' to the last '@': mask all of that.
    const at = url.lastIndexOf('@');
    const slashes = url.indexOf('//');
    const from = slashes !== -1 && slashes < at ? slashes + 2 : 0;
    const colon = url.indexOf(':', from);
    if (at === -1 || colon === -1 || colon > at) return url;
    return `${url.slice(0, colon)}:***${url.slice(at)}`;
  }
}

/** Where the bookstore's data and its job queue live. */
export interface DatabaseConfig {
  /** The bookstore's database (DATABASE_URL). */
  databaseUrl: string;
  databaseKind: 'postgres' | 'mysql';
  /** The job queue's PostgreSQL database: QUEUE_DATABASE_URL, or DATABASE_URL when that is PostgreSQL. */
  queueUrl: string;
}

const POSTGRES_PROTOCOLS = new Set(['postgres:', 'postgresql:']);
const MYSQL_PROTOCOLS = new Set(['mysql:', 'mariadb:']);

function parseUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: ${redactUrl(value)}`);
  }
  if (!url.hostname) throw new ConfigError(`${name} has no host: ${redactUrl(value)}`);
  return url;
}

/**
 * Reads DATABASE_URL (postgres:// or mysql://) and QUEUE_DATABASE_URL (required when the data
 * is on MySQL: graphile-worker lives in PostgreSQL). Every error names the URL, password hidden.
 */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl)
    throw new ConfigError(
      'DATABASE_URL is not set: run `pnpm demo` (embedded PostgreSQL), or set DATABASE_URL=postgres://… or mysql://…',
    );
  const url = parseUrl('DATABASE_URL', databaseUrl);
  let databaseKind: DatabaseConfig['databaseKind'];
  if (POSTGRES_PROTOCOLS.has(url.protocol)) databaseKind = 'postgres';
  else if (MYSQL_PROTOCOLS.has(url.protocol)) databaseKind = 'mysql';
  else
    throw new ConfigError(
      `DATABASE_URL must start with postgres:// or mysql://, got ${redactUrl(databaseUrl)}`,
    );
  const queueUrl = env.QUEUE_DATABASE_URL || (databaseKind === 'postgres' ? databaseUrl : '');
  if (!queueUrl) {
    throw new ConfigError(
      'DATABASE_URL is MySQL, so the job queue needs QUEUE_DATABASE_URL (postgres://…): graphile-worker lives in PostgreSQL.',
    );
  }
  if (!POSTGRES_PROTOCOLS.has(parseUrl('QUEUE_DATABASE_URL', queueUrl).protocol)) {
    throw new ConfigError(`QUEUE_DATABASE_URL must be postgres://…, got ${redactUrl(queueUrl)}`);
  }
  return { databaseUrl, databaseKind, queueUrl };
}
