import mysql from 'mysql2/promise';
import { redactUrl } from '@racefree/testkit/redact-url';

/** The default MySQL/MariaDB server of a developer machine and CI. */
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

/** A reachable MySQL/MariaDB server, or why it is not. */
export type MysqlServer =
  | { available: true; url: string; kind: 'mysql' | 'mariadb'; server: string }
  | { available: false; url: string; reason: string };

/** MYSQL_URL, else DATABASE_URL when it is a mysql:// URL, else the default; probed once. */
export async function probeMysqlServer(): Promise<MysqlServer> {
  const url =
    process.env.MYSQL_URL ||
    (/^mysql:\/\//.test(process.env.DATABASE_URL ?? '') ? process.env.DATABASE_URL : undefined) ||
    DEFAULT_MYSQL_URL;
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    try {
      const [rows] = await connection.query<mysql.RowDataPacket[]>('select version() as version');
      const version = String(rows[0]?.version ?? '');
      const mariadb = /mariadb/i.test(version);
      return {
        available: true,
        url,
        kind: mariadb ? 'mariadb' : 'mysql',
        server: `${mariadb ? 'MariaDB' : 'MySQL'} ${version.split('-')[0]}`,
      };
    } finally {
      await connection.end();
    }
  } catch (error) {
    return {
      available: false,
      url,
      reason: `MySQL/MariaDB at ${redactUrl(url)} is unreachable (${(error as Error).message || String(error)})`,
    };
  }
}
