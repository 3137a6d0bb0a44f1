import type { UniqueKey } from './table-meta.js';

/**
 * What one `getOrCreate(…, { prefer: 'create' })` call met on its key:
 * - `'created'`: it inserted the row;
 * - `'existed'`: the one-statement insert-or-select found a row that was there before it ran;
 * - `'raced'`: the one-statement insert-or-select was too early for a row another caller
 *   committed while it waited (its snapshot predates that commit), so a second statement read it;
 * - `'taken'`: the bare insert found the key taken — it cannot tell a row that existed from one
 *   that raced it.
 */
export type KeyOutcome = 'created' | 'existed' | 'raced' | 'taken';

// Moving averages: conflicts over roughly the last 32 calls (a few scattered conflicts do not
// flip the choice; from a cold start it takes eight in a row), and which kind of conflict over
// roughly the last 8 that the combined statement saw (a raced key leaves it within a dozen
// calls).
const CONFLICT_WEIGHT = 1 / 32;
const KIND_WEIGHT = 1 / 8;
// While the bare insert runs, each conflict it meets moves the estimate of "the row existed"
// this much back towards 1: a bare insert cannot tell, so the combined statement is tried again
// now and then — on a key where every conflict is a race, about 2% of the calls; a key whose
// rows come to exist is back on it within at most about 270 conflicts.
const DRIFT_WEIGHT = 1 / 2048;
// Measured on PostgreSQL at 32 clients (docs/bench-log.md, "prefer: 'create' picks its
// statement"): the combined statement costs about
// 10% more than a bare INSERT for a new row and saves a whole second statement (about 40% of
// the call) for a row that existed, so it pays for itself once about a fifth of the calls find
// one. A row committed while the statement waited saves nothing (the statement's snapshot
// cannot see it: a second statement reads it either way), so only rows that existed count.
// Two thresholds, so a share that hovers near the line does not flip on every call.
const ENTER_COMBINED = 0.2;
const LEAVE_COMBINED = 0.1;

interface Rate {
  /** Share of recent calls that found the key taken, whatever the kind. */
  conflicts: number;
  /** Of the conflicts the combined statement saw, the share whose row existed before it ran (1 until it sees one). */
  existed: number;
  combined: boolean;
  /** Held by `reset(key, combined)`: the choice does not move until the next reset. */
  pinned: boolean;
}

const rates = new WeakMap<UniqueKey, Rate>();

/** A key nothing has been learnt about: no conflicts yet, every conflict assumed to be a row that existed. */
function freshRate(combined: boolean, pinned: boolean): Rate {
  return { conflicts: 0, existed: 1, combined, pinned };
}

/**
 * How often `getOrCreate(…, { prefer: 'create' })` would have saved a statement with the
 * one-statement insert-or-select, per unique key, in this process — it picks the statement on
 * PostgreSQL. While that is rare it sends what a hand-written create-heavy call sends: a bare
 * `INSERT … ON CONFLICT DO NOTHING RETURNING`, and a SELECT when the key was taken. Once it is
 * common it sends one statement that inserts or else selects the existing row. Both are exact for
 * the same reason (the key's unique index decides), and both report what happened, so the
 * estimate keeps learning whichever statement runs; the choice moves only the cost, never the
 * result.
 *
 * The saving is estimated as (share of calls that met a conflict) × (share of those conflicts
 * whose row existed before the statement). A key raced by concurrent creators — many callers
 * inserting the same new key at once — conflicts often, yet its rows are committed while the
 * statement waits, where the combined statement cannot see them: there it costs more and saves
 * nothing, and the bare insert stays.
 */
export const conflictRate = {
  /** True when recent calls on `key` would have saved a statement often enough for the combined one. */
  common(key: UniqueKey): boolean {
    return rates.get(key)?.combined === true;
  },

  /** Records one call's outcome on `key` (see `KeyOutcome`). */
  note(key: UniqueKey, outcome: KeyOutcome): void {
    let rate = rates.get(key);
    if (!rate) {
      rate = freshRate(false, false);
      rates.set(key, rate);
    }
    rate.conflicts += ((outcome === 'created' ? 0 : 1) - rate.conflicts) * CONFLICT_WEIGHT;
    if (outcome === 'existed') rate.existed += (1 - rate.existed) * KIND_WEIGHT;
    else if (outcome === 'raced') rate.existed -= rate.existed * KIND_WEIGHT;
    else if (outcome === 'taken') rate.existed += (1 - rate.existed) * DRIFT_WEIGHT;
    if (rate.pinned) return;
    const saving = rate.conflicts * rate.existed;
    if (rate.combined ? saving < LEAVE_COMBINED : saving >= ENTER_COMBINED)
      rate.combined = !rate.combined;
  },

  /**
   * Forgets what was learnt about `key`; with `combined`, holds that choice until the next
   * reset. For tests, which race each statement on its own and must not depend on what an
   * earlier test taught the process.
   */
  reset(key: UniqueKey, combined?: boolean): void {
    if (combined === undefined) rates.delete(key);
    else rates.set(key, freshRate(combined, true));
  },
};
