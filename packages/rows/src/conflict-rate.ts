import type { UniqueKey } from './table-meta.js';

// A moving average over roughly the last 32 calls: a few scattered conflicts do not flip the
// choice (from a cold start it takes eight in a row), and a load that changes is followed
// within seconds.
const WEIGHT = 1 / 32;
// Measured on PostgreSQL at 32 clients (apps/bench README): the combined statement costs about
// 10% more than a bare INSERT for a new row and saves a whole second statement (about 40% of
// the call) for an existing one, so it pays for itself once about a fifth of the calls find
// their row. Two thresholds, so a share that hovers near the line does not flip on every call.
const ENTER_COMBINED = 0.2;
const LEAVE_COMBINED = 0.1;

interface Rate {
  share: number;
  combined: boolean;
  /** Held by `reset(key, combined)`: the choice does not move until the next reset. */
  pinned: boolean;
}

const rates = new WeakMap<UniqueKey, Rate>();

/**
 * How often `getOrCreate(…, { prefer: 'create' })` has recently found its unique key taken,
 * per key, in this process — it picks the statement on PostgreSQL. While conflicts are rare it
 * sends what a hand-written create-heavy call sends: a bare `INSERT … ON CONFLICT DO NOTHING
 * RETURNING`, and a SELECT when the key was taken. Once they are common it sends one statement
 * that inserts or else selects the existing row. Both are exact for the same reason (the key's
 * unique index decides), and both report which happened, so the estimate keeps learning
 * whichever statement runs; the choice moves only the cost, never the result.
 */
export const conflictRate = {
  /** True when recent calls on `key` found it taken often enough for the combined statement. */
  common(key: UniqueKey): boolean {
    return rates.get(key)?.combined === true;
  },

  /** Records one call's outcome: `taken` when the key's row already existed. */
  note(key: UniqueKey, taken: boolean): void {
    let rate = rates.get(key);
    if (!rate) {
      rate = { share: 0, combined: false, pinned: false };
      rates.set(key, rate);
    }
    rate.share += ((taken ? 1 : 0) - rate.share) * WEIGHT;
    if (rate.pinned) return;
    if (rate.combined ? rate.share < LEAVE_COMBINED : rate.share >= ENTER_COMBINED)
      rate.combined = !rate.combined;
  },

  /**
   * Forgets what was learnt about `key`; with `combined`, holds that choice until the next
   * reset. For tests, which race each statement on its own and must not depend on what an
   * earlier test taught the process.
   */
  reset(key: UniqueKey, combined?: boolean): void {
    if (combined === undefined) rates.delete(key);
    else rates.set(key, { share: 0, combined, pinned: true });
  },
};
