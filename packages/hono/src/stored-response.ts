import type { Context } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { KeyRecord, StoredResponse } from './dialects/idempotency-dialect-for.js';
import { IdempotentResponseTooLargeError } from './idempotent-response-too-large-error.js';

/** Statuses whose responses have no body (the Fetch standard's null body statuses). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** What is stored of the response the handlers produced, and the limits on it. */
export interface CaptureLimits {
  maxResponseBytes: number;
  /** Lower-case names of the headers stored besides Content-Type. */
  storeHeaders: readonly string[];
}

/**
 * Reads the response the handlers produced — status, Content-Type, the headers named in
 * `storeHeaders`, and the whole body (a streamed one too: it is produced now, inside the
 * transaction) — and gives the client an identical copy, since the body stream is consumed.
 * A body over the limit throws `IdempotentResponseTooLargeError`.
 */
export async function captureResponse(c: Context, limits: CaptureLimits): Promise<StoredResponse> {
  const response = c.res;
  const body =
    response.body === null || NULL_BODY_STATUSES.has(response.status)
      ? null
      : await readAtMost(response.body, limits.maxResponseBytes, c.req.path);
  const headers: [string, string][] = [];
  for (const name of limits.storeHeaders) {
    if (name === 'set-cookie') {
      for (const cookie of response.headers.getSetCookie()) headers.push([name, cookie]);
    } else {
      const value = response.headers.get(name);
      if (value !== null) headers.push([name, value]);
    }
  }
  // Clear first: assigning over an existing response would merge its headers in again.
  c.res = undefined;
  c.res = new Response(body, response);
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    headers: headers.length > 0 ? JSON.stringify(headers) : null,
    body,
  };
}

/** The stored response again, marked `Idempotent-Replayed: true`. */
export function replayResponse(c: Context, record: KeyRecord): Response {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of JSON.parse(record.headers ?? '[]') as [string, string][]) {
    const previous = headers[name];
    headers[name] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  if (record.contentType !== null) headers['content-type'] = record.contentType;
  headers['idempotent-replayed'] = 'true';
  const status = record.status ?? 200;
  return record.body === null || NULL_BODY_STATUSES.has(status)
    ? c.body(null, status as StatusCode, headers)
    : c.body(new Uint8Array(record.body), status as ContentfulStatusCode, headers);
}

async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  path: string,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new IdempotentResponseTooLargeError(limit, path);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
