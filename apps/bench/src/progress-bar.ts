/**
 * A progress line on stderr: redrawn in place on a terminal, one line per finished step
 * group otherwise (CI logs stay readable).
 */
export class ProgressBar {
  private done = 0;
  private readonly started = performance.now();
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly title: string,
    private readonly total: number,
  ) {
    if (!this.tty) process.stderr.write(`${title} …\n`);
  }

  /** Marks one step done; `what` names the step just finished. */
  step(what: string): void {
    this.done += 1;
    if (!this.tty) return;
    const width = 24;
    const filled = Math.round((this.done / this.total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${this.title} ${bar} ${this.done}/${this.total} ${what}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
  }

  /** Ends the bar with a summary line. */
  finish(summary: string): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const line = `${this.title} done in ${seconds} s${summary ? ` — ${summary}` : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[2K${line}\n` : `  ${line}\n`);
  }
}
