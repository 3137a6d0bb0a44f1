import {
  addTimed,
  addUntimed,
  emptyTally,
  measureRun,
  type RunTally,
  type RunTiming,
} from './measure-run.js';
import type { BenchClient } from './open-clients.js';
import type { Contender } from './scenario.js';

/** About how long one slice's timed window lasts. */
export const SLICE_MS = 100;
/**
 * The untimed start of every slice. After a switch every client starts its first operation
 * at once; this lets that burst pass before the count starts.
 */
export const SETTLE_MS = 20;

/** How many slices a timed window of `durationMs` is cut into. */
export function sliceCount(durationMs: number): number {
  // Even, so that the order's reversals give every contender the same mean position.
  return Math.max(2, 2 * Math.round(durationMs / (2 * SLICE_MS)));
}

/**
 * One run of every contender, interleaved. Each contender first warms up for
 * `timing.warmupMs`, untimed. Then its timed window (`timing.durationMs`) is cut into slices
 * of about `SLICE_MS` (an even number of them), and the contenders take turns slice by slice.
 * The order reverses every slice (A B C, C B A, A B C …), so each contender has the same mean
 * position in the run. `onStep` is told after every warm-up and every slice (for a progress
 * bar).
 *
 * Why: on this shared machine the same code's throughput moves by about 15% from one 600 ms
 * window to the next, and the drift is correlated over only a few hundred milliseconds. Two
 * contenders measured in back-to-back 600 ms windows therefore sample different stretches of
 * it. Slices of 100 ms take turns inside one stretch, which halves the noise of their ratio
 * (docs/bench-log.md, "Interleaved runs", has the floor-against-itself numbers).
 *
 * All contenders work on the same data, with no reset between their slices. Use it only where
 * the invariant can be checked per contender after the run: per operation (errors, wrong rows),
 * or on a table only that contender writes. Returns one tally per contender, in `contenders`
 * order: the slices' windows summed; `allSucceeded` and `wrongRows` also count the warm-up,
 * settle and tail operations, which touched the data too.
 */
export async function measureInterleaved<C extends BenchClient>(
  clients: readonly C[],
  contenders: readonly Contender<C>[],
  nextKey: () => string,
  timing: RunTiming,
  onStep?: (contender: Contender<C>) => void,
): Promise<RunTally[]> {
  const totals = contenders.map(() => emptyTally());
  for (const [i, contender] of contenders.entries()) {
    const warmUp = await measureRun(clients, contender, nextKey, {
      warmupMs: timing.warmupMs,
      durationMs: 0,
    });
    addUntimed(totals[i] as RunTally, warmUp);
    onStep?.(contender);
  }
  const slices = sliceCount(timing.durationMs);
  const slice: RunTiming = {
    warmupMs: SETTLE_MS,
    durationMs: timing.durationMs / slices,
    // Not before every slice: V8 sweeps after a full collection on helper threads, and that
    // CPU would land inside the slice's window (it doubled the CPU per operation read).
    collectGarbage: false,
  };
  const forward = contenders.map((_, i) => i);
  const backward = [...forward].reverse();
  for (let s = 0; s < slices; s++) {
    for (const i of s % 2 === 0 ? forward : backward) {
      const contender = contenders[i] as Contender<C>;
      const tally = await measureRun(clients, contender, nextKey, slice);
      addTimed(totals[i] as RunTally, tally);
      addUntimed(totals[i] as RunTally, tally);
      onStep?.(contender);
    }
  }
  return totals;
}
