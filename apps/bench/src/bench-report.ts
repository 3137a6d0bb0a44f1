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
  /** ops/s of each run, and their median. */
  runs: number[];
  opsPerSecond: number;
  /** Successful operations of all runs (ms). */
  latency: LatencySummary;
  errors: number;
  errorKinds: Record<string, number>;
  errorSamples: Record<string, string>;
  /** Duplicates, lost updates, wrong rows: invariant breaks over the runs. */
  anomalies: number;
  invariantHeld: boolean;
  invariantDetail: string;
  /** ÷ the baseline's ops/s: the median of the per-run ratios, and their range. */
  ratio?: number;
  ratioRange?: [number, number];
  sameWorkRatio?: number;
  /** Per completed operation, BEGIN and COMMIT included. */
  statementsPerOp: number;
  roundTripsPerOp: number;
  savepointsPerOp: number;
  /** Bench-process CPU per successful operation: library, Drizzle and driver. */
  cpuMicrosPerOp: number;
  /** Share of the keys asked for whose row the operation created, where the contender says. */
  createdShare?: number;
}

export interface ScenarioPoint {
  clients: number;
  /** Slices per run, when the contenders took turns. */
  slices?: number;
  contenders: ContenderResult[];
  /** Why the point could not run. */
  failure?: string;
}

export interface ScenarioResult {
  id: string;
  group: string;
  title: string;
  description: string;
  points: ScenarioPoint[];
}

/** Commit → task start of one way of enqueueing. */
export interface JobsLatencyResult {
  mode: string;
  label: string;
  latency: LatencySummary;
  note?: string;
}

/** One of the issues' targets as measured: printed, never asserted. */
export interface TargetResult {
  id: string;
  text: string;
  status: 'met' | 'not met' | 'not measured';
  detail: string;
}

/** Everything one server measured through one driver. */
export interface DatabaseReport {
  kind: 'postgres' | 'mysql' | 'mariadb';
  driver: DriverName;
  /** e.g. `PostgreSQL 15.20`; `url` with the password hidden. */
  server: string;
  url: string;
  /** The durability settings in force, never relaxed to win a number. */
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
