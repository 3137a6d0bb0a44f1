import type { PostgresClient } from './open-clients.js';
import type { Contender, Scenario } from './scenario.js';

/**
 * Adds, after every racefree contender of a PostgreSQL scenario, the same call made on the
 * client's `preparedDb` (Drizzle over a postgres.js client whose statements are prepared): the
 * number behind the change proposed for racefree's statement execution.
 */
export function withPreparedExperiments(
  scenario: Scenario<PostgresClient>,
): Scenario<PostgresClient> {
  const views = new WeakMap<PostgresClient, PostgresClient>();
  const preparedView = (client: PostgresClient) => {
    let view = views.get(client);
    if (!view) {
      view = { ...client, db: client.preparedDb };
      views.set(client, view);
    }
    return view;
  };
  const contenders: Contender<PostgresClient>[] = [];
  const originals = new Map<string, Contender<PostgresClient>>();
  for (const contender of scenario.contenders) {
    contenders.push(contender);
    if (contender.role !== 'racefree') continue;
    originals.set(`${contender.id}-prepared`, contender);
    contenders.push({
      ...contender,
      id: `${contender.id}-prepared`,
      label: `experiment, statements prepared: ${contender.label}`,
      role: 'experiment',
      op: (client, key) => contender.op(preparedView(client), key),
    });
  }
  return {
    ...scenario,
    contenders,
    // An experiment leaves the data as the call it mirrors does: check it the same way.
    check: (contender, counts) => scenario.check(originals.get(contender.id) ?? contender, counts),
  };
}
