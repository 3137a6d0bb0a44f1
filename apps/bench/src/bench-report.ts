import type { LatencySummary } from './latency-summary.js';
import type { IsolatedCost } from './measure-isolated-cost.js';
import type { ContenderRole } from './scenario.js';

/** One contender at one client count, aggregated over the runs. */
export interface ContenderResult {
  id: string;
  label: string;
  role: ContenderRole;
  baseline?: string;
  sameWorkBaseline?: string;
  /** ops/s of each run. */
  runs: number[];
  /** Median of `runs`. */
  opsPerSecond: number;
  /** Latency of successful operations, all runs pooled (ms). */
  latency: LatencySummary;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: Record<string, string>;
  /** Duplicates, lost updates: invariant breaks summed over the runs. */
  anomalies: number;
  invariantHeld: boolean;
  invariantDetail: string;
  /** ops/s ÷ the baseline's ops/s: the median of the per-run ratios. */
  ratio?: number;
  /** The lowest and highest per-run ratio: how much the machine moved between runs. */
  ratioRange?: [number, number];
  /** ops/s ÷ the same-work baseline's ops/s. */
  sameWorkRatio?: number;
  /** Driver statements per completed operation (BEGIN/COMMIT included). */
  statementsPerOp: number;
  /** Round trips per completed operation (statements + postgres.js describe-first trips). */
  roundTripsPerOp: number;
  /** Statements Drizzle's logger saw per completed operation. */
  loggedPerOp: number;
  /** Bench-process CPU per successful operation (µs): library + driver + Drizzle. */
  cpuMicrosPerOp: number;
  /** Share of operations that created their row, when the contender reports it. */
  createdShare?: number;
}

/** A scenario at one client count. */
export interface ScenarioPoint {
  clients: number;
  /**
   * Set when the contenders took turns in slices (`measureInterleaved`): how many slices
   * each contender's timed window was cut into, per run.
   */
  slices?: number;
  contenders: ContenderResult[];
  /** Set when the point could not run (e.g. connections refused). */
  failure?: string;
}

/** A scenario over all client counts. */
export interface ScenarioResult {
  id: string;
  group: string;
  title: string;
  description: string;
  keys: string;
  points: ScenarioPoint[];
}

/** Commit → task start latency of one way of enqueueing. */
export interface JobsLatencyResult {
  mode: string;
  label: string;
  latency: LatencySummary;
  note?: string;
}

/** One of the targets, as measured. */
export interface TargetResult {
  id: string;
  text: string;
  status: 'met' | 'not met' | 'pending' | 'not measured';
  detail: string;
}

/** Everything one database's run measured. */
export interface DatabaseReport {
  /** `postgres`, `mariadb` or `mysql`. */
  kind: string;
  /** e.g. `PostgreSQL 15.20`. */
  server: string;
  /** The server URL, password hidden. */
  url: string;
  /** The durability settings in force (never relaxed to win a number). */
  durability: string;
  mode: 'quick' | 'full';
  config: {
    runs: number;
    warmupMs: number;
    durationMs: number;
    clients: number[];
    /**
     * Node ran with --expose-gc, so every run started from a collected heap (see measureRun;
     * in an interleaved run, every contender's warm-up, not each slice).
     */
    heapCollectedBeforeRuns?: boolean;
  };
  machine: { cpus: number; node: string };
  startedAt: string;
  finishedAt: string;
  scenarios: ScenarioResult[];
  jobsLatency: JobsLatencyResult[];
  /** getOrCreate's client code against the raw call on a stand-in driver (PostgreSQL runs). */
  isolatedCost?: IsolatedCost;
  /** Scenarios that could not run yet, and why. */
  pending: string[];
  targets: TargetResult[];
  /** Findings worth reading next to the numbers. */
  notes: string[];
}
