import { randomBytes } from 'node:crypto';

/** A database or role name unique to this run: `rf_rel_<label>_<time>_<random>`. */
export function randomName(label: string): string {
  return `rf_rel_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A password for a role this run creates (hex: safe inside SQL string literals and URLs). */
export function randomSecret(): string {
  return `Rf${randomBytes(12).toString('hex')}`;
}
