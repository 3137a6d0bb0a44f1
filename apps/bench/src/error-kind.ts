import { classifyError } from '@racefree/transactions';

/**
 * A short name for why an operation failed: the racefree taxonomy (`unique_violation`,
 * `deadlock`, …) for database errors, the error's `code` or class name otherwise.
 */
export function errorKind(error: unknown): string {
  const { kind } = classifyError(error);
  if (kind !== 'other') return kind;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  return (error as Error)?.constructor?.name ?? typeof error;
}
