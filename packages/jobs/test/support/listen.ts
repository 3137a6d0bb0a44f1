import pg from 'pg';

/**
 * A `LISTEN "jobs:insert"` session: every wake-up graphile-worker's workers would receive.
 * `add_job` and `add_jobs` send one notification per call, carrying how many jobs it added.
 */
export interface Listener {
  /** The `count` of each notification, in commit order. */
  counts: number[];
  /**
   * Resolves once every notification committed before this call has arrived: a sentinel sent
   * now is delivered after them (PostgreSQL delivers notifications in commit order).
   */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function listen(url: string): Promise<Listener> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const counts: number[] = [];
  const waiters = new Map<string, () => void>();
  client.on('notification', (message) => {
    if (message.channel === 'jobs:insert') {
      const payload = JSON.parse(message.payload || '{}') as { count?: number };
      counts.push(payload.count ?? 1);
    } else waiters.get(message.payload ?? '')?.();
  });
  await client.query('listen "jobs:insert"; listen "test:sentinel"');
  let sentinels = 0;
  return {
    counts,
    async settle() {
      const token = String(++sentinels);
      const arrived = new Promise<void>((resolve) => waiters.set(token, resolve));
      await client.query(`select pg_notify('test:sentinel', $1)`, [token]);
      await arrived;
    },
    close: () => client.end(),
  };
}
