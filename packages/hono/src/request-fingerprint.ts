import { createHash } from 'node:crypto';
import type { Context } from 'hono';

/** What makes two requests under one key "the same request". */
export interface RequestFingerprint {
  method: string;
  /** The path with its query string: `/orders?dryRun=1` and `/orders` are different requests. */
  path: string;
  /** SHA-256 of the body bytes, hex. */
  bodySha256: string;
}

/** 1 to 255 visible ASCII characters: no spaces, no control characters, nothing beyond 0x7E. */
export function isIdempotencyKey(value: string): boolean {
  return /^[\x21-\x7e]{1,255}$/.test(value);
}

/**
 * The request's fingerprint. The body is read through `c.req.arrayBuffer()`, which Hono
 * caches: handlers still read it with `c.req.json()`, `text()`, `parseBody()` or a validator
 * (not from `c.req.raw`, whose stream is now consumed).
 */
export async function requestFingerprint(c: Context): Promise<RequestFingerprint> {
  const url = new URL(c.req.url);
  const body = await c.req.arrayBuffer();
  return {
    method: c.req.method,
    path: `${url.pathname}${url.search}`,
    bodySha256: createHash('sha256').update(new Uint8Array(body)).digest('hex'),
  };
}

/** Which parts of a stored fingerprint differ from the request's (empty: the same request). */
export function fingerprintDifferences(
  stored: RequestFingerprint,
  request: RequestFingerprint,
): string[] {
  const differences: string[] = [];
  if (stored.method !== request.method) differences.push('method');
  if (stored.path !== request.path) differences.push('path');
  if (stored.bodySha256 !== request.bodySha256) differences.push('body');
  return differences;
}
