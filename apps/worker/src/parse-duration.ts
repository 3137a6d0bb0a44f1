const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration for the command line: `250ms`, `90s`, `15m`, `4h`, or a bare number of
 * seconds. Returns milliseconds; throws an Error naming the bad value.
 *
 * @example parseDuration('15m') // 900000
 */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${JSON.stringify(text)} (try 90s, 15m, 4h)`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000));
}
