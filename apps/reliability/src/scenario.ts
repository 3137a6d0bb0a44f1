import type { CheckResult } from './check-result.js';
import type { DatabaseKind, Servers } from './deployment.js';
import type { ReliabilitySettings } from './reliability-settings.js';

/** What a scenario gets: the servers, the settings, and where its results go. */
export interface ScenarioContext {
  settings: ReliabilitySettings;
  servers: Servers;
  record(result: CheckResult): void;
}

/** One fault class, run once per database kind it applies to. */
export interface Scenario {
  /** Short name, for `--only` and progress lines. */
  name: string;
  kinds: readonly DatabaseKind[];
  run(context: ScenarioContext, kind: DatabaseKind): Promise<void>;
}
