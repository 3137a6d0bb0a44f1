import { ConfigError } from './database-config.js';

/**
 * Reads a positive integer setting from the environment: `fallback` when unset or empty, a
 * `ConfigError` naming the variable (one line, exit 1) when it is not a positive integer.
 *
 * @example const poolSize = positiveIntegerEnv('DATABASE_POOL_SIZE', 20);
 */
export function positiveIntegerEnv(
  name: string,
  fallback: number,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}
