import type { StandardSchemaV1 } from '@standard-schema/spec';
import { InvalidPayloadError, type PayloadIssue } from './errors.js';

/**
 * Validates `value` against a task's schema and returns the schema's output, or throws
 * `InvalidPayloadError` naming every offending field.
 */
export async function validatePayload<S extends StandardSchemaV1>(
  task: string,
  schema: S,
  value: unknown,
): Promise<StandardSchemaV1.InferOutput<S>> {
  const result = await schema['~standard'].validate(value);
  if (result.issues) throw new InvalidPayloadError(task, result.issues.map(toPayloadIssue));
  return result.value as StandardSchemaV1.InferOutput<S>;
}

function toPayloadIssue(issue: StandardSchemaV1.Issue): PayloadIssue {
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? segment.key : segment))
    .map(String)
    .join('.');
  return { path, message: issue.message };
}
