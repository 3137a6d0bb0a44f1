import { randomInt } from 'node:crypto';

/** How many rows the `existing` mix pre-creates. */
export const EXISTING_KEYS = 10_000;
/** How many keys are hot at a time in the `hot` mix. */
export const HOT_KEYS = 10;
/** After how many operations (all clients together) the hot key set moves on to fresh keys. */
export const HOT_WINDOW = 10;
/** The key space of the `cold` mix. */
export const COLD_KEYS = 1_000_000;

/** The key mixes of the key-based scenarios. */
export type KeyMixName = 'existing' | 'hot' | 'cold' | 'unique' | 'none';

/** A key mix: which keys operations ask for. */
export interface KeyMix {
  name: KeyMixName;
  /** For tables and reports. */
  description: string;
  /** A fresh key stream for one measurement (the hot mix counts operations). */
  stream(): () => string;
}

/** The key mixes, by name. */
export const KEY_MIXES: Record<KeyMixName, KeyMix> = {
  existing: {
    name: 'existing',
    description: `all rows exist (${EXISTING_KEYS.toLocaleString('en')} keys, uniform)`,
    stream: () => () => `e${randomInt(EXISTING_KEYS)}`,
  },
  hot: {
    name: 'hot',
    description: `${HOT_KEYS} hot keys, a fresh set every ${HOT_WINDOW} operations: mostly creates, raced by concurrent clients`,
    stream: () => {
      let sequence = 0;
      return () => {
        const generation = Math.floor(sequence++ / HOT_WINDOW);
        return `h${generation}-${randomInt(HOT_KEYS)}`;
      };
    },
  },
  cold: {
    name: 'cold',
    description: `${COLD_KEYS.toLocaleString('en')} keys, uniform: almost every operation creates`,
    stream: () => () => `c${randomInt(COLD_KEYS)}`,
  },
  none: {
    name: 'none',
    description: 'no key: every operation works on the same hot row',
    stream: () => () => '',
  },
  unique: {
    name: 'unique',
    description: 'a new key for every operation',
    stream: () => {
      const run = randomInt(2 ** 31).toString(36);
      let sequence = 0;
      return () => `u${run}-${sequence++}`;
    },
  },
};
