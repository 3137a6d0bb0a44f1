import type { ContenderResult, ScenarioPoint } from './bench-report.js';
import { median, summarizeLatencies } from './latency-summary.js';
import { addTally, emptyTally, measureRun, type RunTally } from './measure-run.js';
import type { BenchClient } from './open-clients.js';
import { ProgressBar } from './progress-bar.js';
import type { Contender, InvariantCheck, Scenario } from './scenario.js';

/** About how long one slice's window lasts in an interleaved scenario. */
const SLICE_MS = 100;
/** The untimed start of every later slice: lets the burst after a switch pass. */
const SETTLE_MS = 20;

export interface ScenarioPlan {
  runs: number;
  warmupMs: number;
  durationMs: number;
  /** Start each contender's run from a collected heap (the full run; needs --expose-gc). */
  collectGarbage: boolean;
}

/**
 * Runs every contender `plan.runs` times on `clients`, round-robin (run 1 of each, then run 2
 * of each, …, the order rotated every round) so the noise of a shared machine lands on all of
 * them alike; a ratio is the median of the per-round ratios. Each run starts from reset data
 * and is checked after. An `interleaved` scenario cuts each round's windows into slices the
 * contenders take in turns, the order reversed every slice, on data reset once per round: on
 * this machine throughput drifts by ~15% between 600 ms windows and the drift is correlated
 * over only 300–500 ms, so slices of one stretch halve the noise of a ratio (bench log,
 * "Interleaved runs").
 */
export async function runScenario(
  scenario: Scenario,
  clients: readonly BenchClient[],
  plan: ScenarioPlan,
): Promise<ScenarioPoint> {
  const { contenders } = scenario;
  const slices = scenario.interleaved
    ? // Even, so the reversals give every contender the same mean position.
      Math.max(2, 2 * Math.round(plan.durationMs / (2 * SLICE_MS)))
    : 1;
  const tallies = new Map<string, RunTally[]>(contenders.map((c) => [c.id, []]));
  const checks = new Map<string, InvariantCheck[]>(contenders.map((c) => [c.id, []]));
  const plural = clients.length === 1 ? '' : 's';
  const progress = new ProgressBar(
    `${scenario.id} @ ${clients.length} client${plural}`,
    plan.runs * contenders.length * slices,
  );
  for (let round = 0; round < plan.runs; round++) {
    const order = contenders.map(
      (_, i) => contenders[(i + round) % contenders.length] as Contender,
    );
    const roundTallies = new Map(order.map((c) => [c.id, emptyTally()]));
    // One stream per round: interleaved slices must not ask for keys already created.
    const nextKey = scenario.keys.stream();
    if (scenario.interleaved) await scenario.reset();
    for (let slice = 0; slice < slices; slice++) {
      for (const contender of slice % 2 === 0 ? order : [...order].reverse()) {
        if (!scenario.interleaved) await scenario.reset();
        const tally = roundTallies.get(contender.id) as RunTally;
        const part = await measureRun(clients, contender, nextKey, {
          warmupMs: slice === 0 ? plan.warmupMs : SETTLE_MS,
          durationMs: plan.durationMs / slices,
          // Not before later slices: V8 sweeps on helper threads after a full collection,
          // and that CPU would land inside the slice's window.
          collectGarbage: plan.collectGarbage && slice === 0,
        });
        addTally(tally, part);
        progress.step(`${contender.label}: ${Math.round(part.keys / part.seconds)} ops/s`);
        if (slice < slices - 1) continue;
        tallies.get(contender.id)?.push(tally);
        const check = await scenario.check(contender, tally.allSucceeded);
        checks.get(contender.id)?.push(
          tally.wrongRows === 0
            ? check
            : {
                held: false,
                anomalies: check.anomalies + tally.wrongRows,
                detail: `${check.detail}; ${tally.wrongRows} calls got a row they did not write or ask for`,
              },
        );
      }
    }
  }
  const results = contenders.map((c) =>
    aggregate(c, tallies.get(c.id) ?? [], checks.get(c.id) ?? []),
  );
  const byId = new Map(results.map((r) => [r.id, r]));
  for (const result of results) {
    const ratios = pairedRatios(result, byId.get(result.baseline ?? ''));
    if (ratios.length > 0) {
      result.ratio = median(ratios);
      result.ratioRange = [Math.min(...ratios), Math.max(...ratios)];
    }
    const sameWork = pairedRatios(result, byId.get(result.sameWorkBaseline ?? ''));
    if (sameWork.length > 0) result.sameWorkRatio = median(sameWork);
  }
  progress.finish(results.map((r) => `${r.id} ${Math.round(r.opsPerSecond)}/s`).join(', '));
  return { clients: clients.length, ...(slices > 1 ? { slices } : {}), contenders: results };
}

/**
 * Round `i` of both contenders ran seconds apart, so a slow stretch of the machine divides
 * out, where a ratio of two medians lets one's lucky round meet the other's unlucky one.
 */
function pairedRatios(result: ContenderResult, baseline: ContenderResult | undefined): number[] {
  if (!baseline) return [];
  return result.runs.flatMap((ops, i) =>
    baseline.runs[i] ? [ops / (baseline.runs[i] as number)] : [],
  );
}

function aggregate(
  contender: Contender,
  tallies: readonly RunTally[],
  checks: readonly InvariantCheck[],
): ContenderResult {
  const total = emptyTally();
  for (const tally of tallies) addTally(total, tally);
  const completed = total.ops + total.errors;
  const perOp = (n: number) => (completed ? n / completed : 0);
  // Keys settled, which is operations unless an operation settles several.
  const runs = tallies.map((t) => t.keys / t.seconds);
  const broken = checks.find((c) => !c.held);
  return {
    id: contender.id,
    label: contender.label,
    role: contender.role,
    ...(contender.baseline ? { baseline: contender.baseline } : {}),
    ...(contender.sameWorkBaseline ? { sameWorkBaseline: contender.sameWorkBaseline } : {}),
    runs,
    opsPerSecond: median(runs),
    latency: summarizeLatencies(total.latencies),
    errors: total.errors,
    errorKinds: total.errorKinds,
    errorSamples: total.errorSamples,
    anomalies: checks.reduce((sum, c) => sum + c.anomalies, 0),
    invariantHeld: !broken,
    invariantDetail: (broken ?? checks[checks.length - 1])?.detail ?? '',
    statementsPerOp: perOp(total.statements),
    roundTripsPerOp: perOp(total.roundTrips),
    savepointsPerOp: perOp(total.savepoints),
    cpuMicrosPerOp: total.ops ? total.cpuMicros / total.ops : 0,
    ...(total.reportedCreated ? { createdShare: total.created / total.reportedCreated } : {}),
  };
}
