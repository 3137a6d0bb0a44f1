import type { KeyMix } from './key-mix.js';
import type { BenchClient } from './open-clients.js';

/**
 * - `racefree`: the library, as a user calls it (its invariant breaking fails the bench);
 * - `floor`: the best hand-written SQL on the same driver (ratios divide by it);
 * - `control`: the naive code people write, there to show the bug;
 * - `idiom`: a common workaround people use instead of a library;
 * - `reference`: another hand-written way, for context.
 */
export type ContenderRole = 'racefree' | 'floor' | 'control' | 'idiom' | 'reference';

/** The floor's twin: the same code, divided by the floor. Its ratio shows the run's noise. */
export const FLOOR_AGAIN_ID = 'floor-again';

/** One way of doing a scenario's operation. */
export interface Contender {
  /** Stable id: baselines and the JSON refer to it. */
  id: string;
  label: string;
  role: ContenderRole;
  /** The contender whose ops/s this one is divided by. */
  baseline?: string;
  /** A second divisor, where the baseline does less work: the same work by hand. */
  sameWorkBaseline?: string;
  /**
   * One operation; throws on failure (counted as an error). May say whether it created, or,
   * settling several `keys` (counted as that many in ops/s), how many rows it created.
   */
  op(
    client: BenchClient,
    key: string,
  ): Promise<{ created?: boolean | number; keys?: number } | undefined>;
}

/** An invariant check after one run of one contender. */
export interface InvariantCheck {
  held: boolean;
  /** Duplicates, lost updates, missing jobs: how many times it broke. */
  anomalies: number;
  detail: string;
}

/** One operation, a key mix, the contenders, and how to check them. */
export interface Scenario {
  /** e.g. `get-or-create/hot`; `group` is the `--only` name. */
  id: string;
  group: string;
  title: string;
  keys: KeyMix;
  contenders: Contender[];
  /**
   * Contenders take turns in slices of about 100 ms on the same data, reset once per round,
   * instead of a run each after a reset. Only where `check` holds per contender regardless.
   */
  interleaved?: boolean;
  /** The clients share one database on a pool, as one application's requests do. */
  pooled?: boolean;
  reset(): Promise<void>;
  /** `succeeded`: operations that succeeded in the run, warm-up and tail included. */
  check(contender: Contender, succeeded: number): Promise<InvariantCheck>;
}
