import { Logger } from 'graphile-worker';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** Structured logging: one JSON object per line on stdout (`time`, `level`, `msg`, fields). */
export interface Log {
  (level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error'];

/** Parses WORKER_LOG_LEVEL; unknown values fall back to `info`. */
export function parseLogLevel(value: string | undefined): LogLevel {
  return LEVELS.find((level) => level === value?.toLowerCase()) ?? 'info';
}

/**
 * A JSON-lines log writing to `write` (stdout by default); lines below `minLevel` (default
 * `info`) are dropped.
 */
export function createLog(
  write: (line: string) => void = (line) => process.stdout.write(line),
  minLevel: LogLevel = 'info',
): Log {
  const threshold = LEVELS.indexOf(minLevel);
  return (level, msg, fields = {}) => {
    if (LEVELS.indexOf(level) < threshold) return;
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer)}\n`,
    );
  };
}

/** Errors serialise to their name, message and code rather than `{}`. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return value;
}

/** graphile-worker's logger, writing through `log` (its scope — worker, task, job id — as fields). */
export function graphileLogger(log: Log): Logger {
  return new Logger((scope) => (level, message, meta) => {
    const error = (meta as { error?: unknown } | undefined)?.error;
    log(level as LogLevel, message, {
      source: 'graphile-worker',
      ...scope,
      ...(error === undefined ? {} : { error }),
    });
  });
}
