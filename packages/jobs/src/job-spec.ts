import { InvalidArgumentError } from '@racefree/transactions';

/** How an existing job with the same `jobKey` is treated (graphile-worker's `job_key_mode`). */
export type JobKeyMode = 'replace' | 'preserve_run_at' | 'unsafe_dedupe';

const JOB_KEY_MODES: readonly JobKeyMode[] = ['replace', 'preserve_run_at', 'unsafe_dedupe'];

/**
 * Options of one job; all optional, all passed to graphile-worker untouched (through the
 * outbox too), and checked before any SQL is sent (`InvalidArgumentError`).
 *
 * @example
 * await jobs.enqueue(tx, 'digest', { day }, { jobKey: `digest:${day}`, delayMs: 60_000 });
 */
export interface JobOptions {
  /** Do not run before this moment. Default: now. Exclusive with `delayMs`. */
  runAt?: Date;
  /** Do not run before this many milliseconds from now (measured when enqueued). Default 0. */
  delayMs?: number;
  /** A unique key: adding a job whose key exists updates that job (see `jobKeyMode`). Default none. */
  jobKey?: string;
  /** What happens to an existing job with the same key. Default `'replace'`. */
  jobKeyMode?: JobKeyMode;
  /** Jobs of one named queue run one at a time, in order. Default: none (parallel). */
  queueName?: string;
  /** Lower runs sooner. Default 0. */
  priority?: number;
  /** Attempts before the job is failed for good. Default 25 (graphile-worker's). */
  maxAttempts?: number;
}

/**
 * Everything `add_job` needs, in a JSON-safe form: what the outbox's `job` column stores (read it
 * when inspecting `racefree_outbox` rows; never write them by hand).
 */
export interface JobSpec {
  identifier: string;
  payload: unknown;
  queueName: string | null;
  /** ISO 8601, or null for "now" (the database's clock). */
  runAt: string | null;
  maxAttempts: number | null;
  jobKey: string | null;
  jobKeyMode: JobKeyMode | null;
  priority: number | null;
}

/** Checks the options (before any SQL is sent) and builds the spec. */
export function toJobSpec(identifier: string, payload: unknown, options: JobOptions = {}): JobSpec {
  const { runAt, delayMs, jobKey, jobKeyMode, queueName, priority, maxAttempts } = options;
  if (runAt !== undefined && delayMs !== undefined)
    throw new InvalidArgumentError('Pass runAt or delayMs, not both.');
  if (runAt !== undefined && !(runAt instanceof Date && Number.isFinite(runAt.getTime())))
    throw new InvalidArgumentError('runAt must be a valid Date.');
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0))
    throw new InvalidArgumentError(`delayMs must be a finite number ≥ 0, got ${String(delayMs)}.`);
  if (
    jobKey !== undefined &&
    (typeof jobKey !== 'string' || jobKey.length < 1 || jobKey.length > 512)
  )
    throw new InvalidArgumentError('jobKey must be a string of 1 to 512 characters.');
  if (jobKeyMode !== undefined && !JOB_KEY_MODES.includes(jobKeyMode))
    throw new InvalidArgumentError(
      `jobKeyMode must be one of ${JOB_KEY_MODES.map((mode) => `'${mode}'`).join(', ')}.`,
    );
  if (jobKeyMode !== undefined && jobKey === undefined)
    throw new InvalidArgumentError('jobKeyMode needs a jobKey.');
  if (
    queueName !== undefined &&
    (typeof queueName !== 'string' || queueName.length < 1 || queueName.length > 128)
  )
    throw new InvalidArgumentError('queueName must be a string of 1 to 128 characters.');
  for (const [name, value, min] of [
    ['priority', priority, -32768],
    ['maxAttempts', maxAttempts, 1],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= 32767))
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to 32767.`);
  }
  const at = runAt ?? (delayMs ? new Date(Date.now() + delayMs) : undefined);
  return {
    identifier,
    payload,
    queueName: queueName ?? null,
    runAt: at ? at.toISOString() : null,
    maxAttempts: maxAttempts ?? null,
    jobKey: jobKey ?? null,
    jobKeyMode: jobKeyMode ?? null,
    priority: priority ?? null,
  };
}

/**
 * The spec as one element of graphile-worker's `job_spec` type, keyed by that type's field
 * names, for `add_jobs` (the database maps it onto the type, whatever its field types).
 */
export function jobSpecRecord(spec: JobSpec): Record<string, unknown> {
  return {
    identifier: spec.identifier,
    payload: spec.payload ?? {},
    queue_name: spec.queueName,
    run_at: spec.runAt,
    max_attempts: spec.maxAttempts,
    job_key: spec.jobKey,
    priority: spec.priority,
  };
}
