import type {
  ContenderResult,
  DatabaseReport,
  ScenarioResult,
  TargetResult,
} from './bench-report.js';
import { type IsolatedCost, libraryCost } from './measure-isolated-cost.js';
import { FLOOR_AGAIN_ID } from './scenario.js';

/** What the target evaluation needs to know besides the numbers. */
export interface TargetContext {
  /** Why the purchase scenario did not run, if it did not. */
  purchasePending?: string;
  /** Why the jobs scenarios did not run, if they did not. */
  jobsPending?: string;
  /** The durability settings held (never relaxed). */
  durable: boolean;
}

const fmt = (n: number) => `${n.toFixed(2)}×`;
/** A signed difference in µs: `+12.3 µs`, `−4.0 µs`. */
const delta = (micros: number) => `${micros < 0 ? '−' : '+'}${Math.abs(micros).toFixed(1)} µs`;

function contender(scenario: ScenarioResult | undefined, clients: number, id: string) {
  return scenario?.points.find((p) => p.clients === clients)?.contenders.find((c) => c.id === id);
}

/** Every (clients, contender) of `id` in `scenario`, in client order. */
function series(scenario: ScenarioResult | undefined, id: string) {
  return (scenario?.points ?? []).flatMap((p) => {
    const found = p.contenders.find((c) => c.id === id);
    return found ? [{ clients: p.clients, result: found }] : [];
  });
}

/** A ratio target over every client count of some scenarios. */
function ratioTarget(
  id: string,
  text: string,
  scenarios: (ScenarioResult | undefined)[],
  contenderId: string,
  threshold: number,
  noiseCheckId?: string,
): TargetResult {
  const parts: string[] = [];
  let all = true;
  let any = false;
  for (const scenario of scenarios) {
    const points = series(scenario, contenderId);
    if (!scenario || points.length === 0) continue;
    any = true;
    const ratios = points.map(({ clients, result }) => {
      const ratio = result.ratio ?? 0;
      const noise = noiseCheckId ? contender(scenario, clients, noiseCheckId) : undefined;
      if (!(ratio >= threshold)) all = false;
      const notes = [
        ...(result.ratioRange
          ? [`runs ${result.ratioRange[0].toFixed(2)}–${fmt(result.ratioRange[1])}`]
          : []),
        ...(result.sameWorkRatio ? [`same work ${fmt(result.sameWorkRatio)}`] : []),
        ...(noise?.ratio !== undefined ? [`floor again ${fmt(noise.ratio)}`] : []),
      ];
      return `${clients}c ${fmt(ratio)}${notes.length ? ` (${notes.join(', ')})` : ''}`;
    });
    parts.push(`${scenario.id}: ${ratios.join(', ')}`);
  }
  if (!any) return { id, text, status: 'not measured', detail: 'scenario not run' };
  return { id, text, status: all ? 'met' : 'not met', detail: parts.join('; ') };
}

/**
 * The issue's targets, judged on this run's numbers: met / not met, never asserted. A target
 * whose scenario could not run is `pending` (package not there yet) or `not measured`.
 */
export function evaluateTargets(report: DatabaseReport, context: TargetContext): TargetResult[] {
  const byId = new Map(report.scenarios.map((s) => [s.id, s]));
  const postgres = report.kind === 'postgres';
  const goc = ['existing', 'hot', 'cold'].map((mix) => byId.get(`get-or-create/${mix}`));
  const threshold = postgres ? 0.9 : 0.8;
  const targets: TargetResult[] = [];

  targets.push(
    ratioTarget(
      'get-or-create-throughput',
      `getOrCreate ≥ ${threshold}× the raw floor of the same driver on existing, hot and cold keys`,
      goc,
      'racefree',
      threshold,
      FLOOR_AGAIN_ID,
    ),
  );

  const gocPoints = goc.flatMap((s) => series(s, 'racefree').map((p) => ({ scenario: s, ...p })));
  const broken = gocPoints.filter(({ result }) => result.errors > 0 || result.anomalies > 0);
  targets.push({
    id: 'get-or-create-correct',
    text: 'getOrCreate: zero errors and zero duplicates at every client count',
    status: gocPoints.length === 0 ? 'not measured' : broken.length === 0 ? 'met' : 'not met',
    detail:
      gocPoints.length === 0
        ? 'scenario not run'
        : broken.length === 0
          ? `${gocPoints.length} points, all clean`
          : broken
              .map(
                ({ scenario, clients, result }) =>
                  `${scenario?.id} ${clients}c: ${result.errors} errors, ${result.anomalies} duplicates`,
              )
              .join('; '),
  });

  const purchase = byId.get('purchase/hot-row');
  for (const [id, contenderId, floor] of [
    ['purchase-atomic', 'racefree-atomic', 'the raw autocommit conditional UPDATE'],
    ['purchase-lock', 'racefree-lock', 'raw BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT'],
  ] as const) {
    const text = `purchase '${contenderId.replace('racefree-', '')}' ≥ 0.9× ${floor}`;
    targets.push(
      context.purchasePending
        ? { id, text, status: 'pending', detail: context.purchasePending }
        : ratioTarget(id, text, [purchase], contenderId, 0.9),
    );
  }

  targets.push(
    libraryCostTarget(
      byId.get('get-or-create/existing'),
      byId.get('get-or-create/cold'),
      report.isolatedCost,
    ),
  );
  targets.push(p99Target([byId.get('get-or-create/existing'), byId.get('get-or-create/cold')]));

  if (postgres) {
    const text = "'create customer + enqueue welcome email' ≥ 0.85× a bare customer insert";
    targets.push(
      context.jobsPending
        ? { id: 'signup-enqueue', text, status: 'pending', detail: context.jobsPending }
        : ratioTarget('signup-enqueue', text, [byId.get('jobs/signup')], 'racefree-signup', 0.85),
    );
    const latency = report.jobsLatency.find((l) => l.mode === 'enqueue-in-transaction');
    const latencyText =
      'commit → task start p50 ≤ 5 ms, p99 ≤ 25 ms (jobs.enqueue in the transaction)';
    targets.push(
      context.jobsPending
        ? { id: 'job-latency', text: latencyText, status: 'pending', detail: context.jobsPending }
        : !latency
          ? { id: 'job-latency', text: latencyText, status: 'not measured', detail: 'not run' }
          : {
              id: 'job-latency',
              text: latencyText,
              status: latency.latency.p50 <= 5 && latency.latency.p99 <= 25 ? 'met' : 'not met',
              detail: `p50 ${latency.latency.p50.toFixed(2)} ms, p95 ${latency.latency.p95.toFixed(2)} ms, p99 ${latency.latency.p99.toFixed(2)} ms, max ${latency.latency.max.toFixed(2)} ms over ${latency.latency.samples} samples`,
            },
    );
  }

  targets.push({
    id: 'durability',
    text: 'never synchronous_commit = off (or any relaxed durability) to win a number',
    status: context.durable ? 'met' : 'not met',
    detail: report.durability,
  });
  return targets;
}

/**
 * Library cost at 1 client: mean latency of racefree minus the floor's, on the mixes where
 * both send one statement per operation (existing keys; cold keys with prefer 'create'), and
 * the bench process's CPU per operation, racefree minus floor.
 */
function libraryCostTarget(
  existing: ScenarioResult | undefined,
  cold: ScenarioResult | undefined,
  isolated: IsolatedCost | undefined,
): TargetResult {
  const text =
    'library cost ≤ 10 µs per operation at 1 client (library latency − raw latency, same driver)';
  const diff = (scenario: ScenarioResult | undefined) => {
    const ours = contender(scenario, 1, 'racefree');
    const floor = contender(scenario, 1, 'floor');
    if (!ours || !floor) return undefined;
    // The floor's twin against the floor: how far identical code strays at this point.
    const again = contender(scenario, 1, FLOOR_AGAIN_ID);
    return {
      latency: (ours.latency.mean - floor.latency.mean) * 1000,
      cpu: ours.cpuMicrosPerOp - floor.cpuMicrosPerOp,
      statements: `${ours.statementsPerOp.toFixed(2)} vs ${floor.statementsPerOp.toFixed(2)} statements, ${ours.roundTripsPerOp.toFixed(2)} vs ${floor.roundTripsPerOp.toFixed(2)} round trips`,
      noise: again
        ? `; floor again: latency ${delta((again.latency.mean - floor.latency.mean) * 1000)}, CPU ${delta(again.cpuMicrosPerOp - floor.cpuMicrosPerOp)}`
        : '',
    };
  };
  const onExisting = diff(existing);
  const onCold = diff(cold);
  // The same single SELECT through Drizzle without racefree: what racefree itself adds.
  const ours = contender(existing, 1, 'racefree');
  const drizzle = contender(existing, 1, 'naive');
  const overDrizzle =
    ours && drizzle
      ? `over a plain Drizzle select (naive, same statement): latency ${delta((ours.latency.mean - drizzle.latency.mean) * 1000)}, CPU ${delta(ours.cpuMicrosPerOp - drizzle.cpuMicrosPerOp)}`
      : '';
  if (!onExisting)
    return { id: 'library-cost', text, status: 'not measured', detail: 'no 1-client run' };
  const show = (name: string, d: NonNullable<ReturnType<typeof diff>>) =>
    `${name}: latency ${delta(d.latency)}, bench-process CPU ${delta(d.cpu)} (${d.statements}${d.noise})`;
  return {
    id: 'library-cost',
    text,
    status: onExisting.latency <= 10 ? 'met' : 'not met',
    detail: [
      show('existing keys', onExisting),
      onCold ? show('cold keys', onCold) : '',
      overDrizzle,
      isolated ? inIsolation(isolated) : '',
    ]
      .filter(Boolean)
      .join('; '),
  };
}

/** The library cost measured without a server (`measureIsolatedCost`), as a target-line clause. */
function inIsolation(isolated: IsolatedCost): string {
  const warm = libraryCost(isolated.warm);
  const idle = libraryCost(isolated.afterIdle);
  return `in isolation (stand-in driver, no server): found ${delta(warm.found)} warm, ${delta(idle.found)} after a 1 ms idle; created ${delta(warm.created)} warm, ${delta(idle.created)} after a 1 ms idle`;
}

/** p99 within 1.2× of the floor's p99 where nothing conflicts (existing and cold keys). */
function p99Target(scenarios: (ScenarioResult | undefined)[]): TargetResult {
  const text =
    'getOrCreate p99 within 1.2× of the raw p99 when nothing conflicts (existing, cold keys)';
  const parts: string[] = [];
  let all = true;
  for (const scenario of scenarios) {
    for (const point of scenario?.points ?? []) {
      const ours = point.contenders.find((c: ContenderResult) => c.id === 'racefree');
      const floor = point.contenders.find((c: ContenderResult) => c.id === 'floor');
      if (!ours || !floor || floor.latency.p99 === 0) continue;
      const ratio = ours.latency.p99 / floor.latency.p99;
      if (ratio > 1.2) all = false;
      // The floor's twin against the floor: how far identical code's p99 strays at this point.
      const again = point.contenders.find((c: ContenderResult) => c.id === FLOOR_AGAIN_ID);
      const noise = again ? ` (floor again ${fmt(again.latency.p99 / floor.latency.p99)})` : '';
      parts.push(`${scenario?.id} ${point.clients}c ${fmt(ratio)}${noise}`);
    }
  }
  if (parts.length === 0)
    return { id: 'p99', text, status: 'not measured', detail: 'scenario not run' };
  return { id: 'p99', text, status: all ? 'met' : 'not met', detail: parts.join(', ') };
}
