import type { ContenderResult, ScenarioPoint, ScenarioResult } from './bench-report.js';
import { type IsolatedCost, libraryCost } from './measure-isolated-cost.js';

/** The columns of a results table. */
export const RESULT_COLUMNS = [
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
  'cpu µs/op',
  'created',
] as const;

const number = (n: number) => Math.round(n).toLocaleString('en');

function errors(result: ContenderResult): string {
  if (result.errors === 0) return '0';
  const top = Object.entries(result.errorKinds).sort((a, b) => b[1] - a[1])[0];
  return `${result.errors}${top ? ` ${top[0]}` : ''}`;
}

function ratio(result: ContenderResult, point: ScenarioPoint): string {
  if (result.role === 'floor') return 'floor';
  if (result.ratio === undefined) return '—';
  const sameWork = result.sameWorkRatio ? ` (same work ${result.sameWorkRatio.toFixed(2)}×)` : '';
  // A floor that mostly failed (e.g. a deadlock storm) makes the ratio meaningless: say so.
  const baseline = point.contenders.find((c) => c.id === result.baseline);
  const broken = baseline && baseline.errors > baseline.opsPerSecond ? ' [floor failing]' : '';
  return `${result.ratio.toFixed(2)}× ${result.baseline}${sameWork}${broken}`;
}

/** One row of cells per contender and client count, in the order of `RESULT_COLUMNS`. */
export function resultRows(scenario: ScenarioResult): string[][] {
  const rows: string[][] = [];
  for (const point of scenario.points) {
    if (point.failure) {
      rows.push([
        String(point.clients),
        `(not run: ${point.failure})`,
        ...Array(RESULT_COLUMNS.length - 2).fill(''),
      ]);
      continue;
    }
    for (const result of point.contenders) {
      rows.push([
        String(point.clients),
        result.label,
        number(result.opsPerSecond),
        result.latency.p50.toFixed(2),
        result.latency.p99.toFixed(2),
        errors(result),
        String(result.anomalies),
        result.invariantHeld ? 'yes' : 'NO',
        ratio(result, point),
        result.statementsPerOp.toFixed(2),
        result.roundTripsPerOp.toFixed(2),
        number(result.cpuMicrosPerOp),
        result.createdShare === undefined ? '' : `${Math.round(result.createdShare * 100)}%`,
      ]);
    }
  }
  return rows;
}

/** The columns of the library-cost-in-isolation table. */
export const ISOLATED_COST_COLUMNS = [
  'path',
  'stand-in driver call µs',
  'getOrCreate µs',
  'library cost µs',
] as const;

/** The isolated costs as table rows: path, bare call, getOrCreate, library cost (µs per call). */
export function isolatedCostRows(cost: IsolatedCost): string[][] {
  const rows: string[][] = [];
  for (const path of ['found', 'created'] as const) {
    for (const [when, costs] of [
      ['warm', cost.warm],
      ['after a 1 ms idle', cost.afterIdle],
    ] as const) {
      const [bare, ours] =
        path === 'found'
          ? [costs.rawFound, costs.racefreeFound]
          : [costs.rawCreated, costs.racefreeCreated];
      rows.push([
        `${path === 'found' ? 'found' : "created (prefer: 'create')"}, ${when}`,
        bare.toFixed(1),
        ours.toFixed(1),
        `+${libraryCost(costs)[path].toFixed(1)}`,
      ]);
    }
  }
  return rows;
}
