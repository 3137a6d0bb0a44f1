import mysql from 'mysql2/promise';
import { databaseUrl } from './database-url.js';
import { randomName, randomSecret } from './random-name.js';

/** A database created for one scenario on the MySQL/MariaDB server. */
export interface MysqlDatabase {
  name: string;
  /** The URL the apps get: this run's user, with its password. */
  url: string;
  /** An admin pool on this database, for setup and checks (at most 3 connections). */
  pool: mysql.Pool;
  drop(): Promise<void>;
}

/**
 * The MySQL/MariaDB server the scenarios run on. Opening it creates a user with a random
 * password for this run (the apps' URLs carry it; their logs are searched for it, and a wrong
 * password is really refused), granted everything on each scenario database.
 */
export class MysqlServer {
  private constructor(
    readonly adminUrl: string,
    readonly user: { user: string; password: string },
  ) {}

  /** Connects as `adminUrl` and creates this run's user. */
  static async open(adminUrl: string): Promise<MysqlServer> {
    const admin = await mysql.createConnection({ uri: adminUrl, connectTimeout: 5000 });
    try {
      const user = randomName('user').slice(0, 32);
      const password = randomSecret();
      await admin.query(`create user '${user}'@'%' identified by '${password}'`);
      return new MysqlServer(adminUrl, { user, password });
    } finally {
      await admin.end();
    }
  }

  /** The passwords that must never appear in a log line. */
  get secrets(): string[] {
    const own = new URL(this.adminUrl).password;
    return [this.user.password, own ? decodeURIComponent(own) : undefined].filter(
      (s): s is string => !!s,
    );
  }

  /** Creates a fresh database this run's user may use. */
  async createDatabase(label: string): Promise<MysqlDatabase> {
    const name = randomName(label).slice(0, 64);
    const admin = await mysql.createConnection({ uri: this.adminUrl });
    try {
      await admin.query(`create database ${name}`);
      await admin.query(`grant all privileges on ${name}.* to '${this.user.user}'@'%'`);
    } finally {
      await admin.end();
    }
    const pool = mysql.createPool({ uri: databaseUrl(this.adminUrl, name), connectionLimit: 3 });
    return {
      name,
      url: databaseUrl(this.adminUrl, name, this.user),
      pool,
      drop: async () => {
        await pool.end();
        const dropper = await mysql.createConnection({ uri: this.adminUrl });
        try {
          await dropper.query(`drop database if exists ${name}`);
        } finally {
          await dropper.end();
        }
      },
    };
  }

  /** Drops this run's user. */
  async close(): Promise<void> {
    const admin = await mysql.createConnection({ uri: this.adminUrl });
    try {
      await admin.query(`drop user if exists '${this.user.user}'@'%'`);
    } finally {
      await admin.end();
    }
  }
}
