import type { DatabaseReport, ScenarioResult } from './bench-report.js';
import type { ContenderRole } from './scenario.js';

// biome-ignore format: a palette reads better on one line
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#637939'];
const DASH: Record<ContenderRole, string> = {
  racefree: '',
  floor: '6 4',
  control: '2 3',
  idiom: '10 3 2 3',
  reference: '4 2',
};
const PANEL_WIDTH = 430;
const PLOT = { left: 64, right: 16, top: 34, height: 170 };
const COLUMNS = 3;
const LINE_HEIGHT = 15;

const xml = (text: string) =>
  text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

/** A round upper bound for the y axis, and its tick step. */
function niceScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 0.25 };
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  return { top: Math.ceil(max / step) * step, step };
}

const compact = (n: number) =>
  n >= 1000 ? `${(n / 1000).toFixed(n >= 10_000 ? 0 : 1)}k` : String(Math.round(n * 100) / 100);

function panel(scenario: ScenarioResult, x0: number, y0: number): string {
  const width = PANEL_WIDTH - PLOT.left - PLOT.right;
  const clients = scenario.points.filter((p) => !p.failure).map((p) => p.clients);
  const ids = [...new Set(scenario.points.flatMap((p) => p.contenders.map((c) => c.id)))];
  const max = Math.max(
    0,
    ...scenario.points.flatMap((p) => p.contenders.map((c) => c.opsPerSecond)),
  );
  const { top, step } = niceScale(max);
  const px = (i: number) =>
    x0 + PLOT.left + (clients.length <= 1 ? width / 2 : (i / (clients.length - 1)) * width);
  const py = (v: number) => y0 + PLOT.top + PLOT.height - (v / top) * PLOT.height;
  const parts: string[] = [
    `<text x="${x0 + PLOT.left}" y="${y0 + 20}" font-size="13" font-weight="bold">${xml(scenario.title)}</text>`,
  ];
  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(
      `<line x1="${x0 + PLOT.left}" x2="${x0 + PLOT.left + width}" y1="${py(v)}" y2="${py(v)}" stroke="#e5e5e5"/>`,
      `<text x="${x0 + PLOT.left - 6}" y="${py(v) + 4}" font-size="10" text-anchor="end" fill="#555">${compact(v)}</text>`,
    );
  }
  clients.forEach((n, i) => {
    parts.push(
      `<text x="${px(i)}" y="${y0 + PLOT.top + PLOT.height + 15}" font-size="10" text-anchor="middle" fill="#555">${n}</text>`,
    );
  });
  parts.push(
    `<text x="${x0 + PLOT.left + width / 2}" y="${y0 + PLOT.top + PLOT.height + 29}" font-size="10" text-anchor="middle" fill="#555">clients</text>`,
    `<text x="${x0 + 14}" y="${y0 + PLOT.top + PLOT.height / 2}" font-size="10" text-anchor="middle" fill="#555" transform="rotate(-90 ${x0 + 14} ${y0 + PLOT.top + PLOT.height / 2})">ops/s</text>`,
  );
  ids.forEach((id, index) => {
    const color = PALETTE[index % PALETTE.length] as string;
    const points = clients.flatMap((n, i) => {
      const found = scenario.points
        .find((p) => p.clients === n)
        ?.contenders.find((c) => c.id === id);
      return found
        ? [{ x: px(i), y: py(found.opsPerSecond), role: found.role, label: found.label }]
        : [];
    });
    const role = points[0]?.role ?? 'reference';
    const dash = DASH[role] ? ` stroke-dasharray="${DASH[role]}"` : '';
    const strokeWidth = role === 'racefree' ? 3 : 1.6;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="${strokeWidth}"${dash} points="${points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
      ...points.map(
        (p) => `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="2.5" fill="${color}"/>`,
      ),
    );
    const ly = y0 + PLOT.top + PLOT.height + 46 + index * LINE_HEIGHT;
    parts.push(
      `<line x1="${x0 + 8}" x2="${x0 + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="${strokeWidth}"${dash}/>`,
      `<text x="${x0 + 38}" y="${ly}" font-size="10">${xml(truncate(points[0]?.label ?? id, 66))}</text>`,
    );
  });
  return parts.join('\n');
}

const truncate = (text: string, length: number) =>
  text.length > length ? `${text.slice(0, length - 1)}…` : text;

/**
 * Throughput against clients, one panel per scenario and one line per contender (racefree
 * solid and thick, floors dashed, controls dotted), as a standalone SVG: no chart library.
 */
export function renderChartSvg(report: DatabaseReport): string {
  const scenarios = report.scenarios.filter((s) => s.points.some((p) => p.contenders.length > 0));
  const legendRows = Math.max(
    1,
    ...scenarios.map((s) => new Set(s.points.flatMap((p) => p.contenders.map((c) => c.id))).size),
  );
  const panelHeight = PLOT.top + PLOT.height + 46 + legendRows * LINE_HEIGHT;
  const rows = Math.ceil(scenarios.length / COLUMNS);
  const width = COLUMNS * PANEL_WIDTH;
  const height = 40 + rows * panelHeight;
  const body = scenarios.map((scenario, i) =>
    panel(scenario, (i % COLUMNS) * PANEL_WIDTH, 40 + Math.floor(i / COLUMNS) * panelHeight),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="15" font-weight="bold">${xml(`racefree bench — ${report.server} through ${report.driver}, ${report.mode} run, ${report.startedAt.slice(0, 10)}: throughput (median ops/s) vs clients`)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
