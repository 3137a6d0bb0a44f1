import { RacefreeError } from '@racefree/transactions';

/**
 * A keyed request's response body is larger than `maxResponseBytes`: it cannot be stored, so
 * it cannot be replayed, so the request must not count as done. Its transaction was rolled
 * back — nothing the handler wrote stays, and the key is free — and this error reaches Hono's
 * error handler (a 500 unless yours says otherwise). Raise `maxResponseBytes`, return less (a
 * location to fetch the result from), or leave the route out of `idempotency`.
 */
export class IdempotentResponseTooLargeError extends RacefreeError {
  constructor(
    readonly limit: number,
    path: string,
  ) {
    super(
      'IDEMPOTENT_RESPONSE_TOO_LARGE',
      `idempotency: the response to ${path} is larger than maxResponseBytes (${limit} bytes), so it could not be stored for replay; the request was rolled back. Raise maxResponseBytes or return a smaller body.`,
    );
  }
}
