/**
 * Work a `jobs` object runs after the call that started it has returned — after-commit relay
 * passes, the permanent failure of a job with a bad payload — so that `close()` can stop it
 * and wait for it instead of ending the pool under it.
 */
export class BackgroundWork {
  private readonly controller = new AbortController();
  private readonly running = new Set<Promise<void>>();

  /** Aborted by `stop()`: long-running work checks it between steps. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Runs `work` without waiting for it. Its errors are its own to handle (whatever escapes is
   * logged); once `stop()` was called, nothing new starts — the work is then left to what
   * would have happened had the process exited (the safety nets each caller documents).
   */
  run(work: (signal: AbortSignal) => Promise<void>): void {
    if (this.signal.aborted) return;
    const running = work(this.signal).catch((error: unknown) => {
      console.error('[racefree] background work failed:', error);
    });
    this.running.add(running);
    void running.finally(() => this.running.delete(running));
  }

  /** Aborts the work in flight and waits for it to finish, at most `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.controller.abort();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'gave up'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'gave up');
    });
    try {
      while (this.running.size > 0) {
        if ((await Promise.race([Promise.all(this.running), gaveUp])) === 'gave up') {
          console.error(
            `[racefree] jobs.close() stopped waiting after ${timeoutMs} ms for ${this.running.size} background task(s); what they had not done is left to startRelay and graphile-worker's retries.`,
          );
          return;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
