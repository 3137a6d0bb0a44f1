import type { DatabaseReport } from './bench-report.js';
import { ISOLATED_COST_COLUMNS, isolatedCostRows } from './measure-isolated-cost.js';
import { RESULT_COLUMNS, resultRows } from './result-rows.js';

const LABEL_WIDTH = 70;

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i === 1 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
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
    const widths = RESULT_COLUMNS.map((column, i) =>
      Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length)),
    );
    lines.push(pad(RESULT_COLUMNS, widths), ...rows.map((row) => pad(row, widths)));
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
      `library cost in isolation: getOrCreate vs the raw call on a stand-in client that answers at once (median µs per call; ${report.isolatedCost.samples} calls each after a 1 ms idle)`,
    );
    const rows = isolatedCostRows(report.isolatedCost);
    const widths = ISOLATED_COST_COLUMNS.map((column, i) =>
      Math.max(column.length, ...rows.map((row) => (row[i] ?? '').length)),
    );
    lines.push(pad(ISOLATED_COST_COLUMNS, widths), ...rows.map((row) => pad(row, widths)));
  }
  for (const pending of report.pending) lines.push('', `PENDING: ${pending}`);
  lines.push('', `targets (${report.server}):`);
  for (const target of report.targets)
    lines.push(`  [${target.status.toUpperCase()}] ${target.text}`, `      ${target.detail}`);
  for (const note of report.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}
