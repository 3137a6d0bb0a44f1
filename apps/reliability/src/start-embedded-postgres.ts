import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './repo-root.js';

/** A running embedded PostgreSQL (in its own process group) and how to stop it. */
export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Starts `embedded-postgres-process.js` and resolves with its URL once it prints it. */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'apps/reliability/dist/embedded-postgres-process.js')],
    { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    createInterface({ input: child.stdout }).once('line', (line) => {
      resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(() => reject(new Error('the embedded PostgreSQL did not start')));
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
