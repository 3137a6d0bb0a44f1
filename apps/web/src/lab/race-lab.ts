import { type DatabaseServer, databaseServer } from '@racefree/bookstore';
import type { Database } from '@racefree/transactions';
import { bulkDuplicatesRace } from './bulk-duplicates.js';
import { duplicatesRace } from './duplicates.js';
import { earlyJobRace } from './early-job.js';
import type { LabContext, LabFaults, Race } from './lab-context.js';
import type { LabQueue } from './lab-queue.js';
import { type LabResult, messageOf } from './lab-result.js';
import { oversellRace } from './oversell.js';
import { repeatableReadRace } from './repeatable-read.js';

/** Every race of the lab, in the order the page shows them. */
export const RACES: readonly Race[] = [
  oversellRace,
  duplicatesRace,
  bulkDuplicatesRace,
  earlyJobRace,
  repeatableReadRace,
] as readonly Race[];

/** The most clients one run may ask for. */
export const MAX_CLIENTS = 500;

/** A lab request the lab refuses: the status to answer and a message naming the field. */
export class LabRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** A race as the page lists it. */
export interface RaceInfo {
  race: string;
  title: string;
  description: string;
  strategies: readonly string[];
  safe: readonly string[];
  defaultClients: number;
  /** Why it cannot run here, when it cannot. */
  unavailable?: string;
}

/** Options of `createRaceLab`. */
export interface RaceLabOptions {
  db: Database;
  /**
   * Connections the bookstore pool has. A run's waves hold at most this many minus two (kept
   * for the lab's own reads and its worker's look-ups), and at most 20.
   */
  poolSize: number;
  /** The job queue; without it, early-job is unavailable. */
  queue?: LabQueue;
  /** Fault points, for tests. */
  faults?: LabFaults;
}

/** The race lab: runs one race at a time and answers its counts. */
export interface RaceLab {
  /** The server, and the races with their strategies (for the page). */
  describe(): Promise<{ database: DatabaseServer; races: RaceInfo[] }>;
  /** Runs `race` with `strategy` and `clients` (validated here: see `LabRequestError`). */
  run(race: string, input: { strategy?: unknown; clients?: unknown }): Promise<LabResult>;
}

let runs = 0;

/**
 * The race lab. One run at a time per process (a second gets 409): each run already uses the
 * pool's share the lab may have. A run that fails midway answers `completed: false` with the
 * reason, and its rows are deleted either way, so the next run starts clean.
 */
export function createRaceLab(options: RaceLabOptions): RaceLab {
  const { db } = options;
  const concurrency = Math.max(1, Math.min(20, options.poolSize - 2));
  let server: Promise<DatabaseServer> | undefined;
  const serverOf = () => {
    server ??= databaseServer(db).catch((error: unknown) => {
      server = undefined;
      throw error;
    });
    return server;
  };
  let running = false;

  const info = (race: Race, found: DatabaseServer): RaceInfo => {
    const unavailable = race.unavailable?.({ server: found, queue: options.queue });
    return {
      race: race.name,
      title: race.title,
      description: race.description,
      strategies: race.strategies,
      safe: race.safe,
      defaultClients: race.defaultClients,
      ...(unavailable ? { unavailable } : {}),
    };
  };

  return {
    async describe() {
      const found = await serverOf();
      return { database: found, races: RACES.map((race) => info(race, found)) };
    },

    async run(name, input) {
      const race = RACES.find((candidate) => candidate.name === name);
      if (!race)
        throw new LabRequestError(
          404,
          `No race named ${JSON.stringify(name)}; the races are ${RACES.map((r) => r.name).join(', ')}`,
        );
      const strategy = input.strategy;
      if (typeof strategy !== 'string' || !race.strategies.includes(strategy))
        throw new LabRequestError(
          400,
          `strategy: ${JSON.stringify(strategy) ?? 'missing'} is not a strategy of ${race.name}; use one of ${race.strategies.join(', ')}`,
        );
      const clients = input.clients === undefined ? race.defaultClients : input.clients;
      if (
        typeof clients !== 'number' ||
        !Number.isInteger(clients) ||
        clients < 1 ||
        clients > MAX_CLIENTS
      )
        throw new LabRequestError(
          400,
          `clients: must be a whole number from 1 to ${MAX_CLIENTS}, got ${JSON.stringify(clients) ?? String(clients)}`,
        );
      const found = await serverOf();
      const unavailable = race.unavailable?.({ server: found, queue: options.queue });
      if (unavailable)
        throw new LabRequestError(
          404,
          `The race ${race.name} is not available here: ${unavailable}`,
        );
      if (running)
        throw new LabRequestError(409, 'Another lab run is in progress; try again when it is done');
      running = true;
      runs += 1;
      const context: LabContext = {
        db,
        server: found,
        concurrency,
        runId: `${Date.now().toString(36)}${process.pid.toString(36)}${runs.toString(36)}`,
        queue: options.queue,
        faults: options.faults ?? {},
      };
      const started = performance.now();
      const base = { race: race.name, strategy, clients, concurrency };
      try {
        const outcome = await race.run(context, strategy, clients);
        return {
          ...base,
          completed: true,
          ...outcome,
          elapsedMs: Math.round(performance.now() - started),
        };
      } catch (error) {
        return {
          ...base,
          completed: false,
          anomalies: 0,
          counts: {},
          summary: `The run failed midway and was undone: ${messageOf(error)}`,
          errors: [messageOf(error)],
          error: messageOf(error),
          elapsedMs: Math.round(performance.now() - started),
        };
      } finally {
        try {
          await race.cleanUp(context);
        } catch (error) {
          console.error(`[lab] could not delete the rows of run ${context.runId}:`, error);
        } finally {
          running = false;
        }
      }
    },
  };
}
