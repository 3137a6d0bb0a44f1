/** How hard a run pushes: `--quick` (CI, under 3 minutes on 2 cores) or the full run. */
export interface ReliabilitySettings {
  /** Concurrent HTTP clients of the purchase + sign-up load. */
  clients: number;
  /** Times the web process is SIGKILLed under load (and restarted). */
  webKillRounds: number;
  /** 2xx answers observed before each kill: the kill lands mid-load, by measurement. */
  successesBeforeKill: number;
  /** 2xx answers observed after the last restart before the load stops. */
  successesAfterRestart: number;
  /** 2xx answers the two-web, two-worker deployment serves. */
  scaleOutSuccesses: number;
  /** Customers (hence welcome-email jobs) per phase of the worker scenario. */
  workerJobs: number;
  /** WORKER_CONCURRENCY in the worker scenario: the jobs in flight at each signal. */
  workerConcurrency: number;
  /** Times the outbox relay is SIGKILLed during the sign-up burst. */
  relayKillRounds: number;
  /** Database outages the health endpoint must report. */
  outageRounds: number;
  /** DATABASE_CONNECT_ATTEMPTS / WORKER_CONNECT_ATTEMPTS for the start-up failures. */
  connectAttempts: number;
}

/** The settings of a quick or a full run. */
export function reliabilitySettings(quick: boolean): ReliabilitySettings {
  return quick
    ? {
        clients: 64,
        webKillRounds: 1,
        successesBeforeKill: 150,
        successesAfterRestart: 100,
        scaleOutSuccesses: 300,
        workerJobs: 10,
        workerConcurrency: 3,
        relayKillRounds: 3,
        outageRounds: 1,
        connectAttempts: 3,
      }
    : {
        clients: 64,
        webKillRounds: 3,
        successesBeforeKill: 400,
        successesAfterRestart: 300,
        scaleOutSuccesses: 2000,
        workerJobs: 30,
        workerConcurrency: 4,
        relayKillRounds: 8,
        outageRounds: 3,
        connectAttempts: 4,
      };
}
