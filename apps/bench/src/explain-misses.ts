import type { DatabaseReport } from './bench-report.js';

/**
 * Where the time goes, for every point where racefree trails its floor by more than 10%:
 * statements per operation on both sides (round trips) and the bench process's CPU per
 * operation (library + driver + Drizzle), so a reader sees whether the gap is round trips,
 * server work or client CPU.
 */
export function explainMisses(report: DatabaseReport): string[] {
  const notes: string[] = [];
  for (const scenario of report.scenarios) {
    for (const point of scenario.points) {
      for (const ours of point.contenders) {
        if (ours.role !== 'racefree' || ours.ratio === undefined || ours.ratio >= 0.9) continue;
        const floor = point.contenders.find((c) => c.id === ours.baseline);
        if (!floor) continue;
        const sameWork = point.contenders.find((c) => c.id === ours.sameWorkBaseline);
        notes.push(
          `${scenario.id} @ ${point.clients} client${point.clients === 1 ? '' : 's'}: ${ours.id} at ${ours.ratio.toFixed(2)}× ${floor.id} — ` +
            `${ours.statementsPerOp.toFixed(2)} vs ${floor.statementsPerOp.toFixed(2)} statements/op, ` +
            `${ours.roundTripsPerOp.toFixed(2)} vs ${floor.roundTripsPerOp.toFixed(2)} round trips/op, ` +
            `p50 ${ours.latency.p50.toFixed(2)} vs ${floor.latency.p50.toFixed(2)} ms, ` +
            `CPU ${Math.round(ours.cpuMicrosPerOp)} vs ${Math.round(floor.cpuMicrosPerOp)} µs/op` +
            (sameWork
              ? `; the hand-written transaction doing the same work runs at ${(sameWork.opsPerSecond / floor.opsPerSecond).toFixed(2)}× ${floor.id} (${sameWork.roundTripsPerOp.toFixed(2)} round trips/op)`
              : ''),
        );
      }
    }
  }
  return notes;
}
