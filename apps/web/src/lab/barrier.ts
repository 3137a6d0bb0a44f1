/**
 * A one-shot barrier for one wave of lab clients: `arrive()` resolves for everyone once every
 * party has arrived (or left), after `onFull` — run once, when the last one arrives — has
 * finished. A client that fails before its sync point calls `leave()`, so the others are not
 * kept waiting for it. If `onFull` fails, every `arrive()` rejects with its error.
 */
export class Barrier {
  private waiting = 0;
  private readonly opened: Promise<void>;
  private open!: () => void;

  constructor(
    private parties: number,
    private readonly onFull: () => Promise<void> = async () => {},
  ) {
    const full = new Promise<void>((resolve) => {
      this.open = resolve;
    });
    this.opened = full.then(() => this.onFull());
    // Nobody may be waiting when onFull fails (everyone left): not an unhandled rejection.
    this.opened.catch(() => undefined);
    if (parties === 0) this.open();
  }

  /** Arrive and wait until all parties have arrived and `onFull` is done. */
  arrive(): Promise<void> {
    this.waiting += 1;
    this.check();
    return this.opened;
  }

  /** This party will not arrive (it failed first): the others stop waiting for it. */
  leave(): void {
    this.parties -= 1;
    this.check();
  }

  private check(): void {
    if (this.waiting >= this.parties) this.open();
  }
}

/** What each client of a wave is given: its index, and its sync point on the wave's barrier. */
export interface WaveClient {
  index: number;
  /** Waits for the rest of the wave (and the race's step between, if any). */
  sync(): Promise<void>;
}

/**
 * Runs `clients` copies of `client` in waves of at most `concurrency`: a wave's clients all
 * start together, meet at their `sync()` point, and the next wave starts when this one has
 * settled. So a run never needs more pooled connections than `concurrency`, and within a wave
 * the clients really are concurrent — each holds its own connection (its transaction is open)
 * when the barrier releases them. `between` runs once per wave, when all have synced.
 * Every outcome is kept, in client order; nothing is thrown.
 */
export async function runInWaves<T>(
  clients: number,
  concurrency: number,
  client: (wave: WaveClient) => Promise<T>,
  between?: () => Promise<void>,
): Promise<PromiseSettledResult<T>[]> {
  const outcomes: PromiseSettledResult<T>[] = [];
  for (let first = 0; first < clients; first += concurrency) {
    const size = Math.min(concurrency, clients - first);
    const barrier = new Barrier(size, between);
    const wave = await Promise.allSettled(
      Array.from({ length: size }, async (_, offset) => {
        let synced = false;
        try {
          return await client({
            index: first + offset,
            sync: () => {
              synced = true;
              return barrier.arrive();
            },
          });
        } finally {
          if (!synced) barrier.leave();
        }
      }),
    );
    outcomes.push(...wave);
  }
  return outcomes;
}
