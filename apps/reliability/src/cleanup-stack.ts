/**
 * Undo steps run in reverse order of registration (stop the apps, then drop their databases),
 * every one of them even when an earlier one fails.
 */
export class CleanupStack {
  private readonly steps: (() => Promise<unknown>)[] = [];

  /** Registers an undo step. */
  defer(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  /** Runs every step, last registered first; errors are reported, not thrown. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error(`cleanup step failed: ${(error as Error).message}`);
      }
    }
  }
}
