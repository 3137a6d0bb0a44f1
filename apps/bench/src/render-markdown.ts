import type { DatabaseReport } from './bench-report.js';
import {
  ISOLATED_COST_COLUMNS,
  isolatedCostRows,
  RESULT_COLUMNS,
  resultRows,
} from './result-rows.js';

const escape = (cell: string) => cell.replaceAll('|', '\\|');

/** A Markdown table: the header, its rule, and the rows (cells escaped). */
function table(columns: readonly string[], rows: readonly string[][]): string[] {
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
}

/** The Markdown summary of one database's run (what results/<date>-<db>.md holds). */
export function renderMarkdown(report: DatabaseReport, chartFile?: string): string {
  const out: string[] = [];
  out.push(
    `## ${report.server} — ${report.mode} run`,
    '',
    `${report.startedAt} · ${report.config.runs} runs × ${report.config.durationMs} ms per point (after ${report.config.warmupMs} ms warm-up${report.config.heapCollectedBeforeRuns ? ', from a collected heap' : ''}) · clients ${report.config.clients.join(', ')} · ${report.machine.cpus} CPUs · Node ${report.machine.node}`,
    '',
    `Durability: ${report.durability}.`,
    '',
  );
  if (chartFile) out.push(`![throughput vs clients](${chartFile})`, '');
  out.push('### Targets', '');
  for (const target of report.targets)
    out.push(`- **${target.status}** — ${target.text}: ${target.detail}`);
  out.push('');
  for (const pending of report.pending) out.push(`> **Pending:** ${pending}`, '');
  for (const scenario of report.scenarios) {
    out.push(`### ${scenario.title}`, '', scenario.description, '');
    out.push(...table(RESULT_COLUMNS, resultRows(scenario)), '');
  }
  if (report.jobsLatency.length > 0) {
    out.push(
      '### Jobs: commit → task start',
      '',
      ...table(
        ['enqueue', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'samples'],
        report.jobsLatency.map(({ label, latency, note }) => [
          `${label}${note ? ` (${note})` : ''}`,
          latency.p50.toFixed(2),
          latency.p95.toFixed(2),
          latency.p99.toFixed(2),
          latency.max.toFixed(2),
          String(latency.samples),
        ]),
      ),
      '',
    );
  }
  if (report.isolatedCost) {
    out.push(
      '### Library cost in isolation',
      '',
      `getOrCreate's client code against the bare driver call it wraps, both on a stand-in client that answers at once (no driver, socket or server code runs): median µs per call, ${report.isolatedCost.samples} calls each after a 1 ms idle.`,
      '',
      ...table(ISOLATED_COST_COLUMNS, isolatedCostRows(report.isolatedCost)),
      '',
    );
  }
  if (report.notes.length > 0) {
    out.push('### Notes', '');
    for (const note of report.notes) out.push(`- ${note}`);
    out.push('');
  }
  return out.join('\n');
}
