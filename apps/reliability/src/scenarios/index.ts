import type { Scenario } from '../scenario.js';
import { healthDuringOutage } from './health-during-outage.js';
import { keyedRetries } from './keyed-retries.js';
import { relayKilled } from './relay-killed.js';
import { scaleOut } from './scale-out.js';
import { startUpFailures } from './start-up-failures.js';
import { webKilledUnderLoad } from './web-killed-under-load.js';
import { workerStoppedMidJob } from './worker-stopped-mid-job.js';

/** Every scenario, in the order a run goes through them. */
export const SCENARIOS: readonly Scenario[] = [
  webKilledUnderLoad,
  keyedRetries,
  scaleOut,
  workerStoppedMidJob,
  relayKilled,
  startUpFailures,
  healthDuringOutage,
];
