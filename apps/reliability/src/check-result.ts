/** One row of the final table: a fault or input class, and whether one invariant held. */
export interface CheckResult {
  /** What was done to the system, e.g. "web SIGKILLed under load (PostgreSQL)". */
  fault: string;
  /** How many times the fault was injected (or inputs were tried). */
  attempts: number;
  /** The property checked afterwards. */
  invariant: string;
  held: boolean;
  /** Why it did not hold (or a note); printed under the table. */
  detail?: string;
}
