import { type InvariantOutcome, sample } from './check-bookstore-invariants.js';
import type { Deployment } from './deployment.js';
import type { KeyedPurchase } from './http-load.js';
import { requestJson } from './request-json.js';

/** A stored key's row, as both drivers answer it (MariaDB's VARBINARY and BLOBs as Buffers). */
interface StoredKeyRow extends Record<string, unknown> {
  idempotency_key: unknown;
  path: unknown;
  status: unknown;
  body: unknown;
}

const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));

/**
 * Sends every keyed purchase that got a final answer once more, with its key and body — the
 * client's last retry — `concurrency` at a time, and checks it gets the first answer again:
 * a purchase, replayed (`Idempotent-Replayed: true`, the same body byte for byte) without
 * buying again; a sold out (never stored: answers ≥ 400 roll back), sold out again.
 */
export async function replayEveryKey(
  target: string,
  purchases: readonly KeyedPurchase[],
  concurrency = 16,
): Promise<InvariantOutcome> {
  const answered = purchases.filter((purchase) => purchase.final !== undefined);
  const wrong: string[] = [];
  let replayed = 0;
  let soldOutAgain = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < answered.length; i = next++) {
      const purchase = answered[i] as KeyedPurchase & {
        final: NonNullable<KeyedPurchase['final']>;
      };
      const answer = await requestJson(`${target}${purchase.path}`, {
        body: purchase.body,
        headers: { 'idempotency-key': purchase.key },
      });
      if (!answer.ok) {
        wrong.push(`${purchase.key}: no answer (${answer.error})`);
        continue;
      }
      const isReplay = answer.headers.get('idempotent-replayed') === 'true';
      if (purchase.final.status === 201) {
        if (answer.status === 201 && isReplay && answer.text === purchase.final.text) replayed += 1;
        else
          wrong.push(
            `${purchase.key}: ${answer.status}${isReplay ? ' replayed' : ''} ${answer.text.slice(0, 80)} after 201 ${purchase.final.text.slice(0, 80)}`,
          );
      } else if (
        purchase.final.status === 409 &&
        answer.status === 409 &&
        answer.headers.get('retry-after') === null &&
        (answer.body as { code?: string } | undefined)?.code === 'SOLD_OUT'
      )
        soldOutAgain += 1;
      else
        wrong.push(
          `${purchase.key}: ${answer.status} ${answer.text.slice(0, 80)} after ${purchase.final.status}`,
        );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    invariant:
      "every key's final retry gets its first answer: the purchase replayed (same body, Idempotent-Replayed), or sold out again",
    held: wrong.length === 0 && answered.length > 0,
    detail: wrong.length
      ? sample(wrong)
      : `${replayed} purchases replayed, ${soldOutAgain} sold out again`,
  };
}

/**
 * Checks the keyed purchases against the database (after the load stopped):
 * - every key got a final answer, however many of its requests the kills cut off;
 * - each key bought at most once: every order in the database is the stored answer of exactly
 *   one key (a key that bought twice leaves an order no key answers for), every stored answer's
 *   order exists, and it is the order the client was told; no answer ≥ 400 is stored;
 * - the kills really cut keyed purchases off (otherwise the scenario proved nothing), and how
 *   those ended: committed before the kill (the retry replayed it) or not (the retry ran).
 */
export async function checkKeyedPurchases(
  deployment: Deployment,
  purchases: readonly KeyedPurchase[],
  options: {
    /**
     * How many purchases the kills caught inside COMMIT (held at a gate): they committed with
     * their answer lost, so at least that many cut-off keys must end in a replay. Unset: the
     * kills landed wherever the load was, and any mix is fine as long as some were cut off.
     */
    committedUnanswered?: number;
  } = {},
): Promise<InvariantOutcome[]> {
  const outcomes: InvariantOutcome[] = [];
  const unanswered = purchases.filter((purchase) => purchase.final === undefined);
  outcomes.push({
    invariant: 'every key got a final answer (201 or sold out), retried across the restart',
    held: unanswered.length === 0,
    detail: unanswered.length
      ? `no final answer: ${sample(unanswered.map((purchase) => purchase.key))}`
      : `${purchases.length} keys`,
  });

  const stored = (
    await deployment.data.rows<StoredKeyRow>(
      'select idempotency_key, path, status, body from racefree_idempotency_keys',
    )
  ).filter((row) => /^\/api\/books\/\d+\/purchase$/.test(text(row.path)));
  const orderOfKey = new Map<string, number>();
  const keysOfOrder = new Map<number, string[]>();
  const problems: string[] = [];
  for (const row of stored) {
    const key = text(row.idempotency_key);
    if (Number(row.status) >= 400) {
      problems.push(`${key}: a ${Number(row.status)} answer was stored`);
      continue;
    }
    const orderId = Number(
      (JSON.parse(text(row.body)) as { order?: { orderId?: number } }).order?.orderId,
    );
    orderOfKey.set(key, orderId);
    keysOfOrder.set(orderId, [...(keysOfOrder.get(orderId) ?? []), key]);
  }
  const orders = (await deployment.data.rows<{ id: unknown }>('select id from orders')).map((row) =>
    Number(row.id),
  );
  for (const id of orders) {
    const keys = keysOfOrder.get(id) ?? [];
    if (keys.length !== 1) problems.push(`order ${id} is the answer of ${keys.length} keys`);
  }
  const orderIds = new Set(orders);
  for (const [key, id] of orderOfKey)
    if (!orderIds.has(id)) problems.push(`${key}: its stored order ${id} does not exist`);
  for (const purchase of purchases) {
    const told = purchase.final?.orderId;
    if (told !== undefined && orderOfKey.get(purchase.key) !== told)
      problems.push(
        `${purchase.key}: told order ${told}, stored ${orderOfKey.get(purchase.key) ?? 'none'}`,
      );
  }
  outcomes.push({
    invariant:
      "each key bought at most once: every order is exactly one key's stored answer, the one its client got",
    held: problems.length === 0,
    detail: problems.length
      ? sample(problems)
      : `${orders.length} orders, ${orderOfKey.size} stored purchase answers`,
  });

  const cut = purchases.filter((purchase) => purchase.cutOff > 0);
  const committedBeforeKill = cut.filter((purchase) => purchase.final?.replayed).length;
  const refusedOnly = purchases.filter((p) => p.lostAnswers > 0 && p.cutOff === 0).length;
  const detail = `${cut.length} keys cut off: ${committedBeforeKill} had committed (the retry got the replay), ${cut.length - committedBeforeKill} had not (the retry ran the purchase); ${refusedOnly} more only refused while the web was down`;
  const { committedUnanswered } = options;
  outcomes.push(
    committedUnanswered === undefined
      ? {
          invariant: 'the kills cut keyed purchases off inside the web process',
          held: cut.length > 0,
          detail,
        }
      : {
          invariant:
            'the kills caught purchases inside COMMIT; each committed with its answer lost, and its retry got the replay',
          held: committedUnanswered > 0 && committedBeforeKill >= committedUnanswered,
          detail: `${committedUnanswered} held inside COMMIT at the kills; ${detail}`,
        },
  );
  return outcomes;
}
