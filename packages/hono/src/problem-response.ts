import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * An RFC 9457 problem response (`application/problem+json`), the form the Idempotency-Key draft
 * uses for its errors.
 */
export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return c.body(JSON.stringify({ title, status, detail }), status, {
    ...headers,
    'content-type': 'application/problem+json',
  });
}
