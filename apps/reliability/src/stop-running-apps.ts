import { AppProcess } from './app-process.js';

/** Stops (SIGTERM, then waits) every app process still running: the end of a scenario. */
export async function stopRunningApps(): Promise<void> {
  await Promise.all(
    AppProcess.all()
      .filter((app) => app.running)
      .map((app) => app.stop()),
  );
}
