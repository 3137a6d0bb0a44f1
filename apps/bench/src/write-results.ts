import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { DatabaseReport } from './bench-report.js';
import { renderChartSvg } from './render-chart-svg.js';
import { renderMarkdown } from './render-tables.js';

/** The files one database's results went to. */
export interface WrittenResults {
  json: string;
  markdown: string;
  svg: string;
}

/** `<date>-<db>-<driver>`, plus `.quick` for smoke runs, which never overwrite a full run's. */
function baseName(report: DatabaseReport): string {
  const driver = report.driver.replace('.', '-');
  return `${report.startedAt.slice(0, 10)}-${report.kind}-${driver}${report.mode === 'quick' ? '.quick' : ''}`;
}

/** Writes `results/<base>.json` (everything), `.md` (the tables and targets) and `.svg` (the chart). */
export async function writeResults(report: DatabaseReport, dir: string): Promise<WrittenResults> {
  await mkdir(dir, { recursive: true });
  const base = baseName(report);
  const files = {
    json: join(dir, `${base}.json`),
    markdown: join(dir, `${base}.md`),
    svg: join(dir, `${base}.svg`),
  };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.svg, renderChartSvg(report));
  await writeFile(files.markdown, `${renderMarkdown(report, `${base}.svg`)}\n`);
  return files;
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';

/**
 * Replaces the results section of the bench README (between its markers) with this run's
 * charts and target verdicts, linking to the full Markdown tables.
 */
export async function updateReadme(
  readme: string,
  written: readonly { report: DatabaseReport; files: WrittenResults }[],
): Promise<void> {
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readme} has no ${START} … ${END} section`);
  const dir = join(readme, '..');
  const section: string[] = [START, ''];
  for (const { report, files } of written) {
    section.push(
      `### ${report.server} through ${report.driver} (${report.mode} run, ${report.startedAt.slice(0, 10)}, ${report.machine.cpus} CPUs)`,
      '',
      `![throughput vs clients, ${report.server} through ${report.driver}](${relative(dir, files.svg)})`,
      '',
      `Full tables: [${relative(dir, files.markdown)}](${relative(dir, files.markdown)}) · raw numbers: [${relative(dir, files.json)}](${relative(dir, files.json)})`,
      '',
      ...report.targets.map((t) => `- **${t.status}** — ${t.text}: ${t.detail}`),
      '',
    );
  }
  section.push(END);
  await writeFile(
    readme,
    `${text.slice(0, start)}${section.join('\n')}${text.slice(end + END.length)}`,
  );
}
