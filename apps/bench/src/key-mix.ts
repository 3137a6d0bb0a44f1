import { randomInt } from 'node:crypto';

/** Rows the `existing` mix pre-creates (e0 … e9999). */
export const EXISTING_KEYS = 10_000;
const HOT_KEYS = 10;
/** After how many operations (all clients together) the hot keys move on to a fresh set. */
const HOT_WINDOW = 10;
const COLD_KEYS = 1_000_000;

export type KeyMixName = 'existing' | 'hot' | 'cold' | 'unique' | 'none';

/** Which keys operations ask for. */
export interface KeyMix {
  name: KeyMixName;
  description: string;
  /** A fresh key stream (one per round: the hot mix counts operations). */
  stream(): () => string;
}

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
      return () => `h${Math.floor(sequence++ / HOT_WINDOW)}-${randomInt(HOT_KEYS)}`;
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
