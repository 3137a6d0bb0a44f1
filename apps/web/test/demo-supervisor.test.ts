import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '@racefree/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, type Demo, running, startDemo, tree, waitForHealthy } from './demo-process.js';

// `pnpm demo`'s supervisor, for real: the built web and worker, an embedded PostgreSQL on a
// scratch data directory, real signals. (Linux: the process tree is read from /proc.)

describe('pnpm demo supervisor', () => {
  let dataDir: string;
  let port: number;
  let url: string;
  const started: Demo[] = [];

  beforeAll(async () => {
    await buildDemo();
    dataDir = mkdtempSync(join(tmpdir(), 'racefree-demo-pg-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  }, 600_000);

  afterEach(async () => {
    // A failed test must not leave its demo behind for the next one.
    for (const demo of started.splice(0))
      for (const pid of tree(demo.child.pid ?? -1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
  });

  afterAll(async () => {
    const pidFile = join(dataDir, 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        process.kill(pid, 'SIGINT');
        await sleep(1000);
      } catch {
        // Not running.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const demo = (env: Record<string, string> = {}) => {
    const started_ = startDemo({ PORT: String(port), DEMO_DATA_DIR: dataDir, ...env });
    started.push(started_);
    return started_;
  };

  it('a PORT in use is one line naming PORT, and exit 1 before anything starts', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const busy = demo();
      expect(await busy.exited).toBe(1);
      const lines = busy.output().trim().split('\n');
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^PORT ${port} is already in use`))]);
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('SIGKILL of the supervisor leaves no process behind within 5 s; the next start is clean', async () => {
    const first = demo();
    await waitForHealthy(url, first);
    const family = tree(first.child.pid ?? -1);
    // The supervisor, its keeper and embedded server (with its backends), web and worker.
    expect(family.length).toBeGreaterThanOrEqual(5);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    while (running(family).length > 0 && Date.now() - killedAt < 10_000) await sleep(50);
    const tookMs = Date.now() - killedAt;
    console.info(
      `[demo] ${family.length} processes gone ${tookMs} ms after SIGKILL of the supervisor`,
    );
    const left = running(family).map(
      (pid) =>
        `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120)}`,
    );
    expect(left).toEqual([]);
    expect(tookMs).toBeLessThan(5000);

    const second = demo();
    await waitForHealthy(url, second);
    expect(second.output()).not.toMatch(/did not start|Error/);
    // And an ordinary stop: SIGTERM, exit 0, nothing left.
    const family2 = tree(second.child.pid ?? -1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    await sleep(200);
    expect(running(family2)).toEqual([]);
  }, 180_000);

  it('SIGKILL while the apps are still starting leaves nothing behind either', async () => {
    const starting = demo();
    // As soon as both apps exist — long before they serve — the supervisor is killed.
    const commandOf = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    const deadline = Date.now() + 60_000;
    let family: number[] = [];
    while (Date.now() < deadline) {
      family = tree(starting.child.pid ?? -1);
      if (family.filter((pid) => commandOf(pid).includes('dist/main.js')).length === 2) break;
      await sleep(20);
    }
    expect(family.filter((pid) => commandOf(pid).includes('dist/main.js'))).toHaveLength(2);
    starting.child.kill('SIGKILL');
    const killedAt = Date.now();
    while (running(family).length > 0 && Date.now() - killedAt < 10_000) await sleep(50);
    console.info(
      `[demo] start-up: ${family.length} processes gone ${Date.now() - killedAt} ms after SIGKILL`,
    );
    expect(running(family).map(commandOf)).toEqual([]);
    expect(Date.now() - killedAt).toBeLessThan(5000);
  }, 120_000);

  it("recovers a crash's leftovers on its own: a server whose keeper died, a stale postmaster.pid", async () => {
    const first = demo();
    await waitForHealthy(url, first);
    const family = tree(first.child.pid ?? -1);
    const keeper = family.find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('embedded-postgres-keeper'),
    );
    expect(keeper).toBeDefined();
    // Both at once: nobody is left to stop the server, which lives on and holds the data dir.
    process.kill(keeper as number, 'SIGKILL');
    first.child.kill('SIGKILL');
    await sleep(500);
    const pidFile = join(dataDir, 'postmaster.pid');
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(running([orphan])).toEqual([orphan]);

    const second = demo();
    await waitForHealthy(url, second);
    expect(second.output()).toContain('still running');
    expect(running([orphan])).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // A postmaster.pid naming a process that is not this directory's server (the server was
    // killed, its pid taken since): the next start removes it.
    writeFileSync(pidFile, `${process.pid}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
    const third = demo();
    await waitForHealthy(url, third);
    expect(third.output()).toContain('stale postmaster.pid');
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 180_000);
});
