import type { Database } from '@racefree/transactions';
import type { BackgroundWork } from './background-work.js';
import type { Queue } from './queue.js';
import { relayOutbox } from './relay.js';

/** How often a failing after-commit relay may log (the rows wait for the next pass). */
const LOG_EVERY_MS = 10_000;

/**
 * Relays an outbox as soon as a transaction that wrote to it has committed: one pass at a time
 * per outbox database, in the background. A commit during a pass asks for one more pass after
 * it, so a row committed after the pass's last read is never left behind; however many
 * transactions commit meanwhile, they share that next pass and its batches (one `add_jobs`
 * each).
 *
 * Why a lost pass is safe: the outbox rows are committed. A pass that fails (queue down), is
 * cut short by `close()`, or dies with the process leaves them for the next commit's pass or for
 * `startRelay`, which the application runs as the safety net; the ledger keeps every job single.
 */
export class AfterCommitRelay {
  private readonly passes = new Map<Database, { again: boolean; done: Promise<void> }>();
  private lastLogged = 0;
  private unlogged = 0;

  constructor(
    private readonly queue: Queue,
    private readonly background: BackgroundWork,
  ) {}

  /** Relays `db`'s outbox now, or right after the pass in flight. Never throws, never waits. */
  kick(db: Database): void {
    // After close(): nothing starts (the rows wait for startRelay), and no pass is left
    // registered that relay() would wait for.
    if (this.background.signal.aborted) return;
    const running = this.passes.get(db);
    if (running) {
      running.again = true;
      return;
    }
    let finished!: () => void;
    const pass = { again: false, done: new Promise<void>((resolve) => (finished = resolve)) };
    this.passes.set(db, pass);
    this.background.run(async (signal) => {
      try {
        do {
          pass.again = false;
          await relayOutbox(this.queue, db, { signal, sweepLedger: false });
        } while (pass.again && !signal.aborted);
      } catch (error) {
        this.report(error);
      } finally {
        this.passes.delete(db);
        finished();
      }
    });
  }

  /**
   * Resolves once no after-commit pass of this object runs on `db`'s outbox: `relay(db)` waits
   * for it first, since its own SKIP LOCKED read would pass over the rows such a pass holds
   * and return before their jobs are in the queue.
   */
  async idle(db: Database): Promise<void> {
    for (let pass = this.passes.get(db); pass; pass = this.passes.get(db)) await pass.done;
  }

  private report(error: unknown): void {
    const now = Date.now();
    if (now - this.lastLogged < LOG_EVERY_MS) {
      this.unlogged += 1;
      return;
    }
    const also = this.unlogged > 0 ? ` (${this.unlogged} more failed since the last report)` : '';
    this.lastLogged = now;
    this.unlogged = 0;
    console.error(
      `[racefree] after-commit relay failed${also}; the committed outbox rows wait for the next commit or for startRelay:`,
      error,
    );
  }
}
