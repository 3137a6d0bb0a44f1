import type { ContenderResult, ScenarioPoint } from './bench-report.js';
import { median, summarizeLatencies } from './latency-summary.js';
import { measureInterleaved, sliceCount } from './measure-interleaved.js';
import {
  addErrorKinds,
  type ErrorTally,
  measureRun,
  type RunTally,
  type RunTiming,
} from './measure-run.js';
import type { BenchClient } from './open-clients.js';
import { ProgressBar } from './progress-bar.js';
import type { Contender, InvariantCheck, Scenario } from './scenario.js';

/** How many runs, and how long each. */
export interface ScenarioPlan extends RunTiming {
  runs: number;
}

/**
 * Runs every contender of `scenario` `plan.runs` times on `clients`, round-robin (run 1 of
 * each contender, then run 2 of each, … with the order rotated every round) so that the noise
 * of a shared machine lands on all contenders alike; ratios are the median of the per-round
 * ratios (see `pairedRatios`). The data is reset before every run and the invariant checked
 * after it. An `interleaved` scenario runs its contenders' run `i` together instead, taking turns
 * in short slices on the same data (`measureInterleaved`), reset once before them.
 */
export async function runScenario<C extends BenchClient>(
  scenario: Scenario<C>,
  clients: readonly C[],
  plan: ScenarioPlan,
): Promise<ScenarioPoint> {
  const { contenders } = scenario;
  const tallies = new Map<string, RunTally[]>(contenders.map((c) => [c.id, []]));
  const checks = new Map<string, InvariantCheck[]>(contenders.map((c) => [c.id, []]));
  const progress = new ProgressBar(
    `${scenario.id} @ ${clients.length} client${clients.length === 1 ? '' : 's'}`,
    // An interleaved run steps after each contender's warm-up and each of its slices.
    plan.runs * contenders.length * (scenario.interleaved ? sliceCount(plan.durationMs) + 1 : 1),
  );
  const record = async (contender: Contender<C>, tally: RunTally) => {
    tallies.get(contender.id)?.push(tally);
    checks.get(contender.id)?.push(withRightRows(await scenario.check(contender, tally), tally));
  };
  for (let round = 0; round < plan.runs; round++) {
    const order = contenders.map(
      (_, i) => contenders[(i + round) % contenders.length] as Contender<C>,
    );
    if (scenario.interleaved) {
      await scenario.reset();
      const runTallies = await measureInterleaved(
        clients,
        order,
        scenario.keys.stream(),
        plan,
        (contender) => progress.step(`${contender.label} (interleaved)`),
      );
      for (const [i, contender] of order.entries())
        await record(contender, runTallies[i] as RunTally);
      continue;
    }
    for (const contender of order) {
      await scenario.reset();
      const tally = await measureRun(clients, contender, scenario.keys.stream(), plan);
      await record(contender, tally);
      progress.step(`${contender.label}: ${Math.round(tally.ops / tally.seconds)} ops/s`);
    }
  }
  const results = contenders.map((c) =>
    aggregate(c, tallies.get(c.id) ?? [], checks.get(c.id) ?? []),
  );
  const byId = new Map(results.map((r) => [r.id, r]));
  for (const result of results) {
    const baseline = result.baseline ? byId.get(result.baseline) : undefined;
    const ratios = baseline ? pairedRatios(result, baseline) : [];
    if (ratios.length > 0) {
      result.ratio = median(ratios);
      result.ratioRange = [Math.min(...ratios), Math.max(...ratios)];
    }
    const sameWork = result.sameWorkBaseline ? byId.get(result.sameWorkBaseline) : undefined;
    const sameWorkRatios = sameWork ? pairedRatios(result, sameWork) : [];
    if (sameWorkRatios.length > 0) result.sameWorkRatio = median(sameWorkRatios);
  }
  progress.finish(results.map((r) => `${r.id} ${Math.round(r.opsPerSecond)}/s`).join(', '));
  return {
    clients: clients.length,
    ...(scenario.interleaved ? { slices: sliceCount(plan.durationMs) } : {}),
    contenders: results,
  };
}

/**
 * The per-round ratios, whose median is the ratio reported: round `i` of both contenders ran
 * minutes apart at most, seconds apart usually, so a slow stretch of the shared machine
 * divides out — where a ratio of two medians lets one contender's lucky round and the other's
 * unlucky one meet. Their range shows how far this machine moved one round from the next.
 * Rounds whose baseline did nothing are left out.
 */
function pairedRatios(result: ContenderResult, baseline: ContenderResult): number[] {
  const ratios: number[] = [];
  for (let i = 0; i < result.runs.length; i++) {
    const divisor = baseline.runs[i];
    if (divisor) ratios.push((result.runs[i] as number) / divisor);
  }
  return ratios;
}

function aggregate<C extends BenchClient>(
  contender: Contender<C>,
  tallies: readonly RunTally[],
  checks: readonly InvariantCheck[],
): ContenderResult {
  const sum = (pick: (t: RunTally) => number) => tallies.reduce((total, t) => total + pick(t), 0);
  const ops = sum((t) => t.ops);
  const completed = ops + sum((t) => t.errors);
  const errors: ErrorTally = { errorKinds: {}, errorSamples: {} };
  for (const tally of tallies) addErrorKinds(errors, tally);
  const broken = checks.find((c) => !c.held);
  const reportedCreated = sum((t) => t.reportedCreated);
  return {
    id: contender.id,
    label: contender.label,
    role: contender.role,
    ...(contender.baseline ? { baseline: contender.baseline } : {}),
    ...(contender.sameWorkBaseline ? { sameWorkBaseline: contender.sameWorkBaseline } : {}),
    runs: tallies.map((t) => t.ops / t.seconds),
    opsPerSecond: median(tallies.map((t) => t.ops / t.seconds)),
    latency: summarizeLatencies(tallies.flatMap((t) => t.latencies)),
    errors: sum((t) => t.errors),
    errorKinds: errors.errorKinds,
    errorSamples: errors.errorSamples,
    anomalies: checks.reduce((total, c) => total + c.anomalies, 0),
    invariantHeld: checks.every((c) => c.held),
    invariantDetail: (broken ?? checks[checks.length - 1])?.detail ?? '',
    statementsPerOp: completed ? sum((t) => t.statements) / completed : 0,
    roundTripsPerOp: completed ? sum((t) => t.roundTrips) / completed : 0,
    loggedPerOp: completed ? sum((t) => t.logged) / completed : 0,
    cpuMicrosPerOp: ops ? sum((t) => t.cpuMicros) / ops : 0,
    ...(reportedCreated ? { createdShare: sum((t) => t.created) / reportedCreated } : {}),
  };
}

/**
 * Every scenario's invariant includes "each call got its own row back": a call handed another
 * key's row, or a row carrying another caller's write, breaks it however the data ends up.
 */
function withRightRows(check: InvariantCheck, tally: RunTally): InvariantCheck {
  if (tally.wrongRows === 0) return check;
  return {
    held: false,
    anomalies: check.anomalies + tally.wrongRows,
    detail: `${check.detail}; ${tally.wrongRows} calls got a row they did not write or ask for`,
  };
}
