import { type TaskSchemas, taskSchema } from './define-tasks.js';
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
  await validatePayload(name, taskSchema(tasks, name), payload);
  return toJobSpec(name, payload, options);
}
