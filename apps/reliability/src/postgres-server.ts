import postgres from 'postgres';
import { databaseUrl } from './database-url.js';
import { randomName, randomSecret } from './random-name.js';

/** A database created for one scenario on the PostgreSQL server. */
export interface PostgresDatabase {
  name: string;
  /** The URL the apps get: this run's role, with its password. */
  url: string;
  /** A superuser client on this database, for setup and checks (at most 3 connections). */
  sql: postgres.Sql;
  drop(): Promise<void>;
}

const quiet = { onnotice: () => {}, connect_timeout: 10 } as const;

/**
 * The PostgreSQL server the scenarios run on. Opening it creates a login role with a random
 * password for this run (so the apps' URLs carry a real secret that their logs can be searched
 * for); every scenario database is owned by it. Without the right to create roles, the admin
 * URL's own credentials are used.
 */
export class PostgresServer {
  private constructor(
    readonly adminUrl: string,
    private readonly role: { user: string; password: string } | undefined,
  ) {}

  /** Connects as `adminUrl` and creates this run's role. */
  static async open(adminUrl: string): Promise<PostgresServer> {
    const admin = postgres(adminUrl, { ...quiet, max: 1 });
    try {
      const user = randomName('role');
      const password = randomSecret();
      try {
        await admin.unsafe(`create role ${user} login password '${password}'`);
        return new PostgresServer(adminUrl, { user, password });
      } catch {
        return new PostgresServer(adminUrl, undefined);
      }
    } finally {
      await admin.end();
    }
  }

  /** The passwords that must never appear in a log line. */
  get secrets(): string[] {
    const own = new URL(this.adminUrl).password;
    return [this.role?.password, own ? decodeURIComponent(own) : undefined].filter(
      (s): s is string => !!s,
    );
  }

  /** The role the apps log in as, and its password. */
  get credentials(): { user: string; password: string } | undefined {
    return this.role;
  }

  /** Whether the server refuses a wrong password (false when it trusts loopback connections). */
  async refusesWrongPassword(): Promise<boolean> {
    const url = databaseUrl(this.adminUrl, 'postgres', {
      user: this.role?.user ?? new URL(this.adminUrl).username,
      password: 'wrong-password',
    });
    const probe = postgres(url, { ...quiet, max: 1 });
    try {
      await probe`select 1`;
      return false;
    } catch {
      return true;
    } finally {
      await probe.end({ timeout: 1 });
    }
  }

  /** Creates a fresh database owned by this run's role. */
  async createDatabase(label: string): Promise<PostgresDatabase> {
    const name = randomName(label);
    const admin = postgres(this.adminUrl, { ...quiet, max: 1 });
    try {
      await admin.unsafe(`create database ${name}${this.role ? ` owner ${this.role.user}` : ''}`);
    } finally {
      await admin.end();
    }
    const sql = postgres(databaseUrl(this.adminUrl, name), { ...quiet, max: 3 });
    return {
      name,
      url: databaseUrl(this.adminUrl, name, this.role),
      sql,
      drop: async () => {
        await sql.end({ timeout: 2 });
        const dropper = postgres(this.adminUrl, { ...quiet, max: 1 });
        try {
          await dropper.unsafe(`drop database if exists ${name} with (force)`);
        } finally {
          await dropper.end();
        }
      },
    };
  }

  /** Drops this run's role (after every database it owns is gone). */
  async close(): Promise<void> {
    if (!this.role) return;
    const admin = postgres(this.adminUrl, { ...quiet, max: 1 });
    try {
      await admin.unsafe(`drop role if exists ${this.role.user}`);
    } finally {
      await admin.end();
    }
  }
}
