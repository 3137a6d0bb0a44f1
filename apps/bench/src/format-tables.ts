import type { DatabaseReport } from './bench-report.js';
import {
  ISOLATED_COST_COLUMNS,
  isolatedCostRows,
  RESULT_COLUMNS,
  resultRows,
} from './result-rows.js';

const LABEL_WIDTH = 70;

/** One row: the text column `left` aligned left, the numbers right. */
function pad(cells: readonly string[], widths: readonly number[], left: number): string {
  return cells
    .map((cell, i) => (i === left ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** A header and its rows, each column as wide as its widest cell; column `left` holds text. */
function table(columns: readonly string[], rows: readonly string[][], left: number): string[] {
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  return [pad(columns, widths, left), ...rows.map((row) => pad(row, widths, left))];
}

/** The plain-text report of one database, for the terminal. */
export function formatTables(report: DatabaseReport): string {
  const lines: string[] = [];
  lines.push(
    '',
    `==== ${report.server} — ${report.mode} run: ${report.config.runs} runs × ${report.config.durationMs} ms per point, clients ${report.config.clients.join(', ')} ====`,
    `durability: ${report.durability}`,
  );
  for (const scenario of report.scenarios) {
    lines.push('', `${scenario.title} — ${scenario.description}`);
    const rows = resultRows(scenario).map((row) =>
      row.map((cell, i) =>
        i === 1 && cell.length > LABEL_WIDTH ? `${cell.slice(0, LABEL_WIDTH - 1)}…` : cell,
      ),
    );
    lines.push(...table(RESULT_COLUMNS, rows, 1));
  }
  if (report.jobsLatency.length > 0) {
    lines.push('', 'jobs: commit → task start (ms), sequential samples after warm-up');
    for (const { label, latency, note } of report.jobsLatency) {
      lines.push(
        `  ${label.padEnd(72)} p50 ${latency.p50.toFixed(2)}  p95 ${latency.p95.toFixed(2)}  p99 ${latency.p99.toFixed(2)}  max ${latency.max.toFixed(2)}  (n=${latency.samples}${note ? `; ${note}` : ''})`,
      );
    }
  }
  if (report.isolatedCost) {
    lines.push(
      '',
      `library cost in isolation: getOrCreate vs the bare driver call, on a stand-in client that answers at once (median µs per call; ${report.isolatedCost.samples} calls each after a 1 ms idle)`,
      ...table(ISOLATED_COST_COLUMNS, isolatedCostRows(report.isolatedCost), 0),
    );
  }
  for (const pending of report.pending) lines.push('', `PENDING: ${pending}`);
  lines.push('', `targets (${report.server}):`);
  for (const target of report.targets)
    lines.push(`  [${target.status.toUpperCase()}] ${target.text}`, `      ${target.detail}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
