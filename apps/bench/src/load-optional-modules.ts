import type { JobsModule } from './bench-tasks.js';
import type { BookstoreModule } from './prepare-bookstore.js';

/** A workspace package that is being written by others: loaded, or pending with a reason. */
export type Optional<M> =
  | { module: M; pending?: undefined }
  | { module?: undefined; pending: string };

/** The packages some scenarios need, loaded from their built `dist/`. */
export interface OptionalModules {
  bookstore: Optional<BookstoreModule>;
  jobs: Optional<JobsModule>;
}

async function load<M>(name: string, check: (m: M) => boolean): Promise<Optional<M>> {
  try {
    const module = (await import(name)) as M;
    if (!check(module))
      return { pending: `${name} is built but does not export what the bench needs yet` };
    return { module };
  } catch (error) {
    return { pending: `${name} is not available yet (${(error as Error).message.split('\n')[0]})` };
  }
}

/**
 * Loads `@racefree/bookstore` and `@racefree/jobs` if they are there: their scenarios are
 * marked pending (never faked) when they are not.
 */
export async function loadOptionalModules(): Promise<OptionalModules> {
  const [bookstore, jobs] = await Promise.all([
    load<BookstoreModule>(
      '@racefree/bookstore',
      (m) => typeof m.purchase === 'function' && typeof m.migrate === 'function',
    ),
    load<JobsModule>(
      '@racefree/jobs',
      (m) => typeof m.createJobs === 'function' && typeof m.defineTasks === 'function',
    ),
  ]);
  return { bookstore, jobs };
}
