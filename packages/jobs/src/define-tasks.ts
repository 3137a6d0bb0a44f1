import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidArgumentError } from '@racefree/transactions';
import { UnknownTaskError } from './errors.js';

/** Task names mapped to the Standard Schema (zod, valibot, arktype, …) of their payloads. */
export type TaskSchemas = Record<string, StandardSchemaV1>;

/** The task names of a task map, as string literals. */
export type TaskName<T extends TaskSchemas> = Extract<keyof T, string>;

/** What a caller passes to `enqueue` for task `K`: the schema's input type. */
export type PayloadInput<
  T extends TaskSchemas,
  K extends TaskName<T>,
> = StandardSchemaV1.InferInput<T[K]>;

/** What a handler receives for task `K`: the schema's output type (after validation). */
export type PayloadOutput<
  T extends TaskSchemas,
  K extends TaskName<T>,
> = StandardSchemaV1.InferOutput<T[K]>;

/** graphile-worker's limit on `tasks.identifier`. */
const MAX_TASK_NAME_LENGTH = 128;

/**
 * Declares the tasks of an application: each name with the schema its payload must satisfy.
 * Everything built from the result — `enqueue`, `enqueueOnCommit`, `taskList` handlers — is
 * typed from it, so a misspelt task name or a payload of the wrong shape is a compile error,
 * and the schema is checked again at run time on both ends (a bad payload never enters the
 * queue, and one that got there anyway fails its job for good instead of retrying forever).
 *
 * Any Standard Schema works (zod ≥ 3.24, valibot, arktype). The payload is stored as JSON in
 * the form the caller gave (the schema's input); handlers get the schema's output.
 *
 * @example
 * import { z } from 'zod';
 * export const tasks = defineTasks({
 *   send_welcome_email: z.object({ customerId: z.number().int() }),
 * });
 */
export function defineTasks<const T extends TaskSchemas>(tasks: T): Readonly<T> {
  if (tasks === null || typeof tasks !== 'object')
    throw new InvalidArgumentError('defineTasks needs an object of { taskName: schema }');
  for (const [name, schema] of Object.entries(tasks)) {
    if (name.length === 0 || name.length > MAX_TASK_NAME_LENGTH)
      throw new InvalidArgumentError(
        `Task name ${JSON.stringify(name)} must be 1 to ${MAX_TASK_NAME_LENGTH} characters long (graphile-worker's limit).`,
      );
    const standard = (schema as Partial<StandardSchemaV1> | null)?.['~standard'];
    if (typeof standard?.validate !== 'function')
      throw new InvalidArgumentError(
        `The schema of task "${name}" is not a Standard Schema (no ~standard.validate); use zod ≥ 3.24, valibot ≥ 1 or arktype ≥ 2.`,
      );
  }
  return Object.freeze({ ...tasks });
}

/** The schema of task `name`, or `UnknownTaskError` (own keys only: `toString` is no task). */
export function taskSchema(tasks: TaskSchemas, name: string): StandardSchemaV1 {
  const schema = Object.hasOwn(tasks, name) ? tasks[name] : undefined;
  if (!schema) throw new UnknownTaskError(name, Object.keys(tasks));
  return schema;
}
