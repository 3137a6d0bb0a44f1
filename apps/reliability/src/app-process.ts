import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './repo-root.js';

/** How a process ended. */
export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One line a process wrote. */
export interface AppLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Options of `AppProcess.start`. */
export interface StartAppOptions {
  /** Shown in progress lines, e.g. `web#2`. */
  name: string;
  /** The script, relative to the repository root, e.g. `apps/web/dist/main.js`. */
  script: string;
  args?: readonly string[];
  /** The whole environment of the process (PATH and HOME are added). */
  env: Record<string, string>;
}

/** Every process this program started: their logs are checked for passwords at the end. */
const started: AppProcess[] = [];

/** Print every line the apps write (`--verbose`). */
let echo = false;

/**
 * A real app process (`node apps/…/dist/…js`) in its own process group — a Ctrl-C in the
 * terminal reaches this program only, which then stops its children — with every line it
 * writes kept, so moments can be measured on its output ("listening", "worker started") and
 * its logs searched afterwards.
 */
export class AppProcess {
  readonly name: string;
  readonly lines: AppLine[] = [];
  /** Settles when the process has exited and its output is fully read. */
  readonly exited: Promise<AppExit>;
  private exit: AppExit | undefined;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  private constructor(options: StartAppOptions) {
    this.name = options.name;
    this.child = spawn(
      process.execPath,
      [join(REPO_ROOT, options.script), ...(options.args ?? [])],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = this.child[stream];
      if (!source) continue;
      createInterface({ input: source }).on('line', (text) => {
        this.lines.push({ stream, text });
        if (echo) console.log(`    ${this.name} ${stream === 'stderr' ? '!' : '|'} ${text}`);
        for (const listener of this.listeners) listener();
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        for (const listener of this.listeners) listener();
        resolve(this.exit);
      });
    });
  }

  /** Starts a process. */
  static start(options: StartAppOptions): AppProcess {
    const app = new AppProcess(options);
    started.push(app);
    return app;
  }

  /** Every process started so far. */
  static all(): readonly AppProcess[] {
    return started;
  }

  /** Echo the apps' output (for `--verbose`). */
  static echoOutput(on: boolean): void {
    echo = on;
  }

  /** SIGKILLs every process still running (synchronous: safe in an `exit` handler). */
  static killAll(): void {
    for (const app of started) if (app.running) app.signal('SIGKILL');
  }

  /** Not exited yet. */
  get running(): boolean {
    return (
      this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** Sends a real signal to the process. */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /**
   * Resolves with the first line at index ≥ `from` that matches `pattern`. Rejects if the
   * process exits first (with its last lines, to say why) or after `timeoutMs`.
   */
  waitForLine(
    pattern: RegExp,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<string> {
    const { from = 0, timeoutMs = 30_000 } = options;
    return new Promise((resolve, reject) => {
      let next = from;
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = () => {
        for (; next < this.lines.length; next++) {
          const line = this.lines[next];
          if (line && pattern.test(line.text)) {
            done();
            resolve(line.text);
            return;
          }
        }
        if (this.exit !== undefined) {
          done();
          const tail = this.lines
            .slice(-5)
            .map((l) => l.text)
            .join(' / ');
          reject(
            new Error(
              `${this.name} exited (${this.exit.signal ?? this.exit.code}) before a line matching ${pattern}: ${tail}`,
            ),
          );
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`, default 20 s). */
  async stop(graceMs = 20_000): Promise<AppExit> {
    if (this.running) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
      try {
        return await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }
}
