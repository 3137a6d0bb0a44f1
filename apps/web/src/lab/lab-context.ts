import type { DatabaseServer } from '@racefree/bookstore';
import type { Database } from '@racefree/transactions';
import type { LabQueue } from './lab-queue.js';

/** Named points where a test can make a run fail midway. */
export interface LabFaults {
  /** Called in every client's transaction after its wave has synced, before it writes. */
  afterSync?(race: string, client: number): void | Promise<void>;
  /** Called once the clients are done, before the race counts: a throw fails the run midway. */
  beforeCount?(race: string): void | Promise<void>;
}

/** What a race needs to run once. */
export interface LabContext {
  db: Database;
  server: DatabaseServer;
  /** Clients per wave: never more than the pool can hold at once beside the lab's own reads. */
  concurrency: number;
  /** Unique per run: names the rows the run creates, so runs never see each other's. */
  runId: string;
  /** The job queue (early-job needs it). */
  queue: LabQueue | undefined;
  faults: LabFaults;
}

/** One race of the lab: its strategies, the safe ones, and how to run one. */
export interface Race<S extends string = string> {
  name: string;
  title: string;
  /** What the race shows, for the page. */
  description: string;
  strategies: readonly S[];
  /** Strategies that must always report 0 anomalies. */
  safe: readonly S[];
  /** Clients by default: enough for the naive strategy's anomalies to show. */
  defaultClients: number;
  /** Why the race cannot run here (this server, no job queue), if it cannot. */
  unavailable?(lab: Pick<LabContext, 'server' | 'queue'>): string | undefined;
  run(context: LabContext, strategy: S, clients: number): Promise<RaceOutcome>;
  /** Deletes every row the run created (after it, whether it completed or not). */
  cleanUp(context: LabContext): Promise<void>;
}

/** What a race answers; the lab adds the run's identity and timing. */
export interface RaceOutcome {
  anomalies: number;
  counts: Record<string, number>;
  summary: string;
  errors: string[];
}
