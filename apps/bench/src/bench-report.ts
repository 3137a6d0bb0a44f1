import type { LatencySummary } from './latency-summary.js';
import type { DriverName } from './open-clients.js';
import type { ContenderRole } from './scenario.js';

/** One contender at one client count, over all runs. */
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
  /** Successful operations of all runs (ms). */
  latency: LatencySummary;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: Record<string, string>;
  /** Duplicates, lost updates: invariant breaks summed over the runs. */
  anomalies: number;
  invariantHeld: boolean;
  invariantDetail: string;
  /** ops/s ÷ the baseline's: the median of the per-run ratios. */
  ratio?: number;
  /** The lowest and highest per-run ratio. */
  ratioRange?: [number, number];
  /** ops/s ÷ the same-work baseline's (median of per-run ratios). */
  sameWorkRatio?: number;
  /** Per completed operation, BEGIN/COMMIT included. */
  statementsPerOp: number;
  roundTripsPerOp: number;
  savepointsPerOp: number;
  /** Bench-process CPU per successful operation (µs): library, Drizzle and driver. */
  cpuMicrosPerOp: number;
  /** Share of operations that created their row, when the contender says. */
  createdShare?: number;
}

export interface ScenarioPoint {
  clients: number;
  /** How many slices each run's window was cut into, when the contenders took turns. */
  slices?: number;
  contenders: ContenderResult[];
  /** Set when the point could not run. */
  failure?: string;
}

export interface ScenarioResult {
  id: string;
  group: string;
  title: string;
  description: string;
  points: ScenarioPoint[];
}

/** Commit → task start latency of one way of enqueueing. */
export interface JobsLatencyResult {
  mode: string;
  label: string;
  latency: LatencySummary;
  note?: string;
}

/** One of the issues' targets, as measured: printed, never asserted. */
export interface TargetResult {
  id: string;
  text: string;
  status: 'met' | 'not met' | 'not measured';
  detail: string;
}

/** Everything one server measured through one driver. */
export interface DatabaseReport {
  /** `postgres`, `mariadb` or `mysql`. */
  kind: string;
  driver: DriverName;
  /** e.g. `PostgreSQL 15.20`. */
  server: string;
  /** The server URL, password hidden. */
  url: string;
  /** The durability settings in force (never relaxed to win a number). */
  durability: string;
  mode: 'quick' | 'full';
  config: { runs: number; warmupMs: number; durationMs: number; clients: number[] };
  machine: { cpus: number; node: string };
  startedAt: string;
  finishedAt: string;
  scenarios: ScenarioResult[];
  jobsLatency: JobsLatencyResult[];
  targets: TargetResult[];
}
