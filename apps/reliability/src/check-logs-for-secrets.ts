import type { AppProcess } from './app-process.js';
import type { CheckResult } from './check-result.js';

/**
 * Searches every line every app process wrote (stdout and stderr, all scenarios: start-up
 * failures, kills, outages included) for the run's database passwords, raw and URL-encoded.
 */
export function checkLogsForSecrets(
  apps: readonly AppProcess[],
  secrets: readonly string[],
): CheckResult {
  const needles = [...new Set(secrets.flatMap((s) => [s, encodeURIComponent(s)]))].filter(
    (s) => s.length >= 4,
  );
  let lines = 0;
  const leaks: string[] = [];
  for (const app of apps)
    for (const line of app.lines) {
      lines += 1;
      if (needles.some((needle) => line.text.includes(needle)))
        leaks.push(`${app.name}: ${line.text.slice(0, 120)}`);
    }
  return {
    fault: `every log line of every app process (${apps.length} processes)`,
    attempts: lines,
    invariant: `no line prints a database password (${needles.length} searched for)`,
    held: leaks.length === 0 && needles.length > 0,
    detail: leaks.length
      ? leaks.slice(0, 3).join(' | ')
      : needles.length === 0
        ? 'no password to search for'
        : undefined,
  };
}
