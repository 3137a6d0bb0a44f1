/** What a race-lab run answers: its counts, and how many of them are anomalies. */
export interface LabResult {
  race: string;
  strategy: string;
  clients: number;
  /** True when the run went to the end; false when it failed midway (`error` says why). */
  completed: boolean;
  /**
   * Outcomes the strategy should have made impossible: lost updates and oversold copies,
   * duplicate rows and unique-violation errors, jobs that ran before their row was visible,
   * re-fetches that missed the winner's row. The safe strategies always report 0.
   */
  anomalies: number;
  /** The run's numbers, by name (the page shows them in this order). */
  counts: Record<string, number>;
  /** One sentence saying what happened. */
  summary: string;
  /** The first few distinct errors callers saw, if any. */
  errors: string[];
  /** Connections the run held at most (its waves' size). */
  concurrency: number;
  elapsedMs: number;
  /** Why the run stopped early (only when `completed` is false). */
  error?: string;
}

/**
 * Caller outcomes tallied by kind, with the first few distinct error messages kept — except
 * those of `expected` kinds, which are answers rather than errors (a sold-out refusal).
 */
export function tally<T>(
  outcomes: PromiseSettledResult<T>[],
  classify: (reason: unknown) => string,
  expected: readonly string[] = [],
): { values: T[]; failures: Record<string, number>; errors: string[] } {
  const values: T[] = [];
  const failures: Record<string, number> = {};
  const errors = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') {
      values.push(outcome.value);
      continue;
    }
    const kind = classify(outcome.reason);
    failures[kind] = (failures[kind] ?? 0) + 1;
    if (errors.size < 3 && !expected.includes(kind)) errors.add(messageOf(outcome.reason));
  }
  return { values, failures, errors: [...errors] };
}

/** An error's message, seeing through Drizzle's wrapping to the driver's own words. */
export function messageOf(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
