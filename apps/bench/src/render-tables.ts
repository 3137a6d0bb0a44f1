import type {
  ContenderResult,
  DatabaseReport,
  ScenarioPoint,
  ScenarioResult,
} from './bench-report.js';

const COLUMNS = [
  'clients',
  'contender',
  'ops/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'anomalies',
  'invariant',
  'ratio',
  'stmts/op',
  'RT/op',
  'SP/op',
  'cpu µs/op',
  'created',
];
const LATENCY_COLUMNS = ['enqueue', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'samples'];
const LABEL_WIDTH = 70;

function ratio(result: ContenderResult, point: ScenarioPoint): string {
  if (result.role === 'floor') return 'floor';
  if (result.ratio === undefined) return '—';
  const sameWork = result.sameWorkRatio ? ` (same work ${result.sameWorkRatio.toFixed(2)}×)` : '';
  const floor = point.contenders.find((c) => c.id === result.baseline);
  const failing = floor && floor.errors > floor.opsPerSecond ? ' [floor failing]' : '';
  return `${result.ratio.toFixed(2)}× ${result.baseline}${sameWork}${failing}`;
}

/** One row of cells per contender and client count. */
function resultRows(scenario: ScenarioResult): string[][] {
  return scenario.points.flatMap((point) => {
    if (point.failure) return [[String(point.clients), `(not run: ${point.failure})`]];
    return point.contenders.map((r) => {
      const top = Object.entries(r.errorKinds).sort((a, b) => b[1] - a[1])[0];
      return [
        String(point.clients),
        r.label,
        Math.round(r.opsPerSecond).toLocaleString('en'),
        r.latency.p50.toFixed(2),
        r.latency.p99.toFixed(2),
        r.errors === 0 ? '0' : `${r.errors}${top ? ` ${top[0]}` : ''}`,
        String(r.anomalies),
        r.invariantHeld ? 'yes' : 'NO',
        ratio(r, point),
        r.statementsPerOp.toFixed(2),
        r.roundTripsPerOp.toFixed(2),
        r.savepointsPerOp.toFixed(2),
        Math.round(r.cpuMicrosPerOp).toLocaleString('en'),
        r.createdShare === undefined ? '' : `${Math.round(r.createdShare * 100)}%`,
      ];
    });
  });
}

function latencyRows(report: DatabaseReport): string[][] {
  return report.jobsLatency.map(({ label, latency, note }) => [
    `${label}${note ? ` (${note})` : ''}`,
    ...[latency.p50, latency.p95, latency.p99, latency.max].map((ms) => ms.toFixed(2)),
    String(latency.samples),
  ]);
}

/** Columns as wide as their widest cell; column `text` left-aligned, the numbers right. */
function plainTable(columns: readonly string[], rows: readonly string[][], text: number): string[] {
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === text ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)];
}

function markdownTable(columns: readonly string[], rows: readonly string[][]): string[] {
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(columns), `|${columns.map(() => '---').join('|')}|`, ...rows.map(line)];
}

const heading = (report: DatabaseReport) => `${report.server} through ${report.driver}`;

/** The terminal report of one server and driver. */
export function formatTables(report: DatabaseReport): string {
  const { config } = report;
  const lines = [
    '',
    `==== ${heading(report)} — ${report.mode} run: ${config.runs} runs × ${config.durationMs} ms per point, clients ${config.clients.join(', ')} ====`,
    `durability: ${report.durability}`,
  ];
  for (const scenario of report.scenarios) {
    const rows = resultRows(scenario).map((row) =>
      row.map((cell, i) =>
        i === 1 && cell.length > LABEL_WIDTH ? `${cell.slice(0, LABEL_WIDTH - 1)}…` : cell,
      ),
    );
    lines.push('', `${scenario.title} — ${scenario.description}`, ...plainTable(COLUMNS, rows, 1));
  }
  if (report.jobsLatency.length > 0)
    lines.push(
      '',
      'jobs: commit → task start (ms), sequential samples after warm-up',
      ...plainTable(LATENCY_COLUMNS, latencyRows(report), 0),
    );
  lines.push('', `targets (${heading(report)}):`);
  for (const target of report.targets)
    lines.push(`  [${target.status.toUpperCase()}] ${target.text}`, `      ${target.detail}`);
  return lines.join('\n');
}

/** The Markdown summary of one server and driver (results/<date>-<db>-<driver>.md). */
export function renderMarkdown(report: DatabaseReport, chartFile: string): string {
  const { config } = report;
  const out = [
    `## ${heading(report)} — ${report.mode} run`,
    '',
    `${report.startedAt} · ${config.runs} runs × ${config.durationMs} ms per point (after ${config.warmupMs} ms warm-up) · clients ${config.clients.join(', ')} · ${report.machine.cpus} CPUs · Node ${report.machine.node}`,
    '',
    `Durability: ${report.durability}.`,
    '',
    `![throughput vs clients](${chartFile})`,
    '',
    '### Targets',
    '',
    ...report.targets.map((t) => `- **${t.status}** — ${t.text}: ${t.detail}`),
    '',
  ];
  for (const scenario of report.scenarios)
    out.push(
      `### ${scenario.title}`,
      '',
      scenario.description,
      '',
      ...markdownTable(COLUMNS, resultRows(scenario)),
      '',
    );
  if (report.jobsLatency.length > 0)
    out.push(
      '### Jobs: commit → task start',
      '',
      ...markdownTable(LATENCY_COLUMNS, latencyRows(report)),
      '',
    );
  return out.join('\n');
}
