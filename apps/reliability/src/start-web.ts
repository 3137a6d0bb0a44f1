import { AppProcess } from './app-process.js';

/** A running web process and where it listens. */
export interface WebProcess {
  app: AppProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
}

/** Options of `startWeb`. */
export interface StartWebOptions {
  name: string;
  databaseUrl: string;
  queueUrl: string;
  /** The port to listen on (pick one with `freePort`; restarts reuse it). */
  port: number;
}

/**
 * Starts the real web app (`node apps/web/dist/main.js`) and resolves once it logs that it
 * listens (it has migrated and seeded by then). Rejects if it exits first.
 */
export async function startWeb(options: StartWebOptions): Promise<WebProcess> {
  const app = AppProcess.start({
    name: options.name,
    script: 'apps/web/dist/main.js',
    env: {
      DATABASE_URL: options.databaseUrl,
      QUEUE_DATABASE_URL: options.queueUrl,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      // The server's connections are shared by every process of a scenario.
      DATABASE_POOL_SIZE: '6',
      DATABASE_CONNECT_ATTEMPTS: '4',
    },
  });
  await app.waitForLine(/listening on http:\/\//, { timeoutMs: 60_000 });
  return { app, url: `http://127.0.0.1:${options.port}`, port: options.port };
}
