import { InvalidArgumentError } from '@racefree/transactions';

/** The largest value of the INT columns ids and quantities live in, on both databases. */
const MAX_INT = 2 ** 31 - 1;

/**
 * Refuses anything but an id an INT column can hold (1 to 2147483647), before any SQL is
 * sent: a larger number would otherwise come back as a database range error, not a clean 400.
 */
export function requireId(value: unknown, name: string): number {
  return requireCount(value, name, 1);
}

/** Refuses anything but a whole number from `min` to 2147483647, before any SQL is sent. */
export function requireCount(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_INT) {
    throw new InvalidArgumentError(
      `${name} must be a whole number from ${min} to ${MAX_INT}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}
