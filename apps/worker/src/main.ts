import { ConfigError, ConnectionRefusedError } from '@racefree/bookstore';
import { loadConfig, type WorkerConfig } from './config.js';
import { guardUnhandledRejections } from './guard-unhandled-rejections.js';
import { createLog, parseLogLevel } from './log.js';
import { type RunningWorker, startWorker } from './start-worker.js';

// The worker process: `pnpm --filter worker start`. Configuration comes from the environment
// (see README.md); logs are JSON lines on stdout.
const log = createLog(undefined, parseLogLevel(process.env.WORKER_LOG_LEVEL));

function fail(message: string, fields: Record<string, unknown> = {}): never {
  log('error', message, fields);
  process.exit(1);
}

// A database blip must not crash the worker through graphile-worker's unawaited "job done".
guardUnhandledRejections(log, (error) => fail('unhandled rejection', { error }));

// `pnpm demo` starts the worker with an IPC channel: it closes when the supervisor is gone,
// however it ended (SIGKILL included). Watched from the first line, since that can happen
// while the worker is still starting (nothing to finish then: exit at once). Once running,
// it stops as for SIGTERM, but within 3 s: nobody is left to wait for the jobs in flight, and
// a job cut short runs again (delivery is at-least-once).
let onSupervisorGone = (): void => process.exit(0);
if (process.send) process.on('disconnect', () => onSupervisorGone());
// Gone while the modules were loading: the event has passed, the state tells.
if (process.send && !process.connected) onSupervisorGone();

let config: WorkerConfig;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}

let worker: RunningWorker;
try {
  worker = await startWorker(config, log);
} catch (error) {
  if (error instanceof ConnectionRefusedError) fail(error.message);
  fail('worker failed to start', { error });
}

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) fail('second signal: exiting without waiting for jobs in flight', { signal });
  stopping = true;
  log('info', 'stopping: no new jobs; waiting for jobs in flight', { signal });
  worker.stop().then(
    () => {
      log('info', 'stopped');
      process.exit(0);
    },
    (error: unknown) => fail('error while stopping', { error }),
  );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
onSupervisorGone = () => {
  if (!stopping) shutdown('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
};
if (process.send && !process.connected) onSupervisorGone();

worker.done.catch((error: unknown) => {
  if (!stopping) fail('graphile-worker stopped unexpectedly', { error });
});
