import type { TaskSchemas } from './define-tasks.js';
import { UnknownTaskError } from './errors.js';
import { type JobOptions, type JobSpec, toJobSpec } from './job-spec.js';
import { validatePayload } from './validate-payload.js';

/**
 * Everything checked before a job goes anywhere: the task exists, the payload matches its
 * schema, the options are valid. The payload is stored as given (the schema's input form), so
 * the handler's own validation produces the same output the caller's types promised.
 */
export async function prepareJob(
  tasks: TaskSchemas,
  name: string,
  payload: unknown,
  options: JobOptions | undefined,
): Promise<JobSpec> {
  const schema = Object.hasOwn(tasks, name) ? tasks[name] : undefined;
  if (!schema) throw new UnknownTaskError(name, Object.keys(tasks));
  await validatePayload(name, schema, payload);
  return toJobSpec(name, payload, options);
}
