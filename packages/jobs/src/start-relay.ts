import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@racefree/transactions';
import type { Queue } from './queue.js';
import { type RelayOptions, relayOutbox } from './relay.js';

/**
 * Options of `jobs.startRelay`: those of `relay`, plus the loop's; all optional.
 *
 * @example
 * jobs.startRelay(db, { pollIntervalMs: 250, onError: (error) => log.warn(error) });
 */
export interface StartRelayOptions extends Omit<RelayOptions, 'signal'> {
  /** Pause between passes once the outbox is empty. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Longest pause after repeated failures (the pause doubles per failure). Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Called after each pass that moved jobs. */
  onRelayed?(moved: number): void;
  /** Called when a pass fails; the loop goes on after a backoff. Default: `console.error`. */
  onError?(error: unknown, consecutiveFailures: number): void;
}

/**
 * A running relay loop (`jobs.startRelay`). Stopping it is safe at any moment: the batch in
 * flight finishes, and what is left waits in the outbox for the next relay.
 *
 * @example
 * process.once('SIGTERM', () => void loop.stop());
 */
export interface RelayLoop {
  /** Finishes the batch in flight (never half of one), then stops. Resolves once stopped. */
  stop(): Promise<void>;
  /** Settles when the loop has stopped. */
  readonly stopped: Promise<void>;
}

/** Runs `relay` until stopped, pausing when the outbox is empty and backing off on errors. */
export function startRelayLoop(
  queue: Queue,
  outboxDb: Database,
  options: StartRelayOptions = {},
): RelayLoop {
  const {
    pollIntervalMs = 1000,
    maxBackoffMs = 30_000,
    onRelayed,
    onError,
    ...relayOptions
  } = options;
  const controller = new AbortController();
  const { signal } = controller;
  const stopped = (async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const moved = await relayOutbox(queue, outboxDb, { ...relayOptions, signal });
        failures = 0;
        if (moved > 0) onRelayed?.(moved);
      } catch (error) {
        failures += 1;
        if (onError) onError(error, failures);
        else console.error('[racefree] outbox relay pass failed; retrying:', error);
      }
      const pause =
        failures === 0 ? pollIntervalMs : Math.min(maxBackoffMs, pollIntervalMs * 2 ** failures);
      await sleep(pause, undefined, { signal }).catch(() => undefined);
    }
  })();
  return {
    async stop() {
      controller.abort();
      await stopped;
    },
    stopped,
  };
}
