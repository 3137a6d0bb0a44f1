import type { CheckResult } from './check-result.js';

const HEADERS = ['fault or input class', 'attempts', 'invariant checked', 'held'] as const;

/**
 * The run's table (Markdown, so it can be pasted into an issue as is): one row per invariant
 * checked after a fault, `yes`/`no` in the last column; then, for each row that did not hold,
 * what was found.
 */
export function formatResultsTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [
    r.fault,
    String(r.attempts),
    r.invariant,
    r.held ? 'yes' : 'NO',
  ]);
  const widths = HEADERS.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const out = [
    line(HEADERS),
    `|${widths.map((w, column) => (column === 1 || column === 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...rows.map(line),
  ];
  const failures = results.filter((r) => !r.held);
  if (failures.length > 0) {
    out.push('', 'Did not hold:');
    for (const r of failures)
      out.push(`- ${r.fault} — ${r.invariant}: ${r.detail ?? '(no detail)'}`);
  }
  return out.join('\n');
}
