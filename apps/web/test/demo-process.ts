import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// Helpers for tests of the real `scripts/demo.mjs`: start it, wait for it, and read its process
// tree (Linux /proc).

/** The repository root. */
export const root = new URL('../../../', import.meta.url).pathname;
const demoScript = join(root, 'scripts/demo.mjs');

/** Every live process: pid → [parent pid, state]. A zombie ('Z') no longer runs. */
export function processes(): Map<number, [number, string]> {
  const found = new Map<number, [number, string]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state = '', parent = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') found.set(Number(entry), [Number(parent), state]);
    } catch {
      // Gone while being read.
    }
  }
  return found;
}

/** `pid` and all its descendants that are running now. */
export function tree(pid: number): number[] {
  const all = processes();
  const result = all.has(pid) ? [pid] : [];
  for (let i = 0; i < result.length; i++)
    for (const [child, [parent]] of all) if (parent === result[i]) result.push(child);
  return result;
}

/** Those of `pids` still running. */
export const running = (pids: number[]) => {
  const all = processes();
  return pids.filter((pid) => all.has(pid));
};

/** A `scripts/demo.mjs` this test started. */
export interface Demo {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `node scripts/demo.mjs` as `pnpm demo` does (its turbo build included: cached when
 * nothing changed), with `env` on top.
 */
export function startDemo(env: Record<string, string>): Demo {
  let output = '';
  const child = spawn(process.execPath, [demoScript], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', QUEUE_DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/**
 * Resolves once the demo answers /healthz with 200 (a first, uncached build takes minutes);
 * fails if it exits first.
 */
export async function waitForHealthy(url: string, demo: Demo, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (demo.child.exitCode !== null) throw new Error(`the demo exited early:\n${demo.output()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(200);
  }
  throw new Error(`the demo did not answer /healthz within ${timeoutMs} ms:\n${demo.output()}`);
}
