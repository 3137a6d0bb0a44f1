import type { KeyMix } from './key-mix.js';
import type { BenchClient } from './open-clients.js';

/**
 * What a contender is there for:
 * - `racefree`: the library, as a user would call it;
 * - `floor`: the best hand-written SQL on the same driver (ratios divide by it);
 * - `control`: the naive code people write, there to show the bug (errors, duplicates, lost updates);
 * - `idiom`: a common workaround people use instead of a library;
 * - `reference`: another hand-written way, for context.
 */
export type ContenderRole = 'racefree' | 'floor' | 'control' | 'idiom' | 'reference';

/** The id of a floor's twin: the same code as the floor, divided by it (a noise check). */
export const FLOOR_AGAIN_ID = 'floor-again';

/** What one operation reports back. */
export interface OpOutcome {
  /** The operation created its row (get-or-create style scenarios). */
  created?: boolean;
}

/** One way of doing a scenario's operation. */
export interface Contender<C extends BenchClient> {
  /** Stable id, used for baselines and in the JSON. */
  id: string;
  /** What the tables print, e.g. `racefree getOrCreate (prefer: 'create')`. */
  label: string;
  role: ContenderRole;
  /** The contender whose ops/s this one is divided by. */
  baseline?: string;
  /**
   * A second divisor printed beside the first: the hand-written SQL doing exactly the same
   * work (when the floor does less work than the library call, e.g. no order row).
   */
  sameWorkBaseline?: string;
  /** One operation on `client` for `key`. Throws on failure (counted as an error). */
  op(client: C, key: string): Promise<OpOutcome | undefined>;
}

/** The outcome of an invariant check after one run of one contender. */
export interface InvariantCheck {
  held: boolean;
  /** Duplicates, lost updates: how many times the invariant broke. */
  anomalies: number;
  detail: string;
}

/** Everything a run counted that an invariant check may need. */
export interface RunCounts {
  /** Successful operations, warm-up and tail included (everything that touched the data). */
  allSucceeded: number;
}

/** A scenario: one operation, a key mix, the contenders, and how to check them. */
export interface Scenario<C extends BenchClient> {
  /** e.g. `get-or-create/hot`. */
  id: string;
  /** e.g. `get-or-create`: scenarios of one group share a chart row. */
  group: string;
  title: string;
  description: string;
  keys: KeyMix;
  contenders: Contender<C>[];
  /**
   * Run the contenders' runs interleaved, in slices of about 100 ms on the same data, reset
   * once per round (`measureInterleaved`), instead of one after another with a reset before
   * each. Only for scenarios whose `check` holds per contender without a reset in between.
   */
  interleaved?: boolean;
  /** Open each client with a spare connection for one-time probes (see `openPostgresClients`). */
  spareConnection?: boolean;
  /** Puts the data back before each run (fresh tables, restocked book). */
  reset(): Promise<void>;
  /** Checks the invariant after a run of `contender`. */
  check(contender: Contender<C>, counts: RunCounts): Promise<InvariantCheck>;
}
