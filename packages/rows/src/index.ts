export { KeyMismatchError, NoUniqueKeyError } from './errors.js';
export {
  type DefaultsOf,
  type GetOrCreateOptions,
  getOrCreate,
  type InsertOf,
  type RowOf,
  type WhereOf,
} from './get-or-create.js';
export { type GetOrCreateManyOptions, getOrCreateMany } from './get-or-create-many.js';
export type { RowResult } from './insert-or-read-winner.js';
export { type KeyValues, type LockRowsOptions, lockRows } from './lock-rows.js';
export { type RefreshOptions, refresh } from './refresh.js';
export {
  type SelectForUpdateOrCreateOptions,
  type SkippedRow,
  selectForUpdateOrCreate,
} from './select-for-update-or-create.js';
export type { AnyTable } from './table-meta.js';
export { type UpdateOrCreateOptions, updateOrCreate } from './update-or-create.js';
