import { getOrCreate } from '@racefree/rows';
import type { Database } from '@racefree/transactions';
import type { z } from 'zod';
import { bookstoreTables } from './bookstore-tables.js';
import type { welcomeEmailPayload } from './bookstore-tasks.js';

/** What the handler did: sent now, or found already sent by an earlier delivery of the job. */
export type WelcomeEmailOutcome = 'sent' | 'already sent';

/**
 * The `send_welcome_email` handler: "sends" the email by recording it in `sent_emails`.
 * Delivery is at-least-once (the worker can die after recording and before graphile-worker
 * marks the job done), so a second run must not send twice: the record is a `getOrCreate` on
 * the unique (customer, kind) key, and only the run that creates it sends.
 */
export async function sendWelcomeEmail(
  db: Database,
  payload: z.output<typeof welcomeEmailPayload>,
  send: (email: string) => void | Promise<void> = () => {},
): Promise<WelcomeEmailOutcome> {
  const { sentEmails } = bookstoreTables(db);
  const { created } = await getOrCreate(db, sentEmails, {
    where: { customerId: payload.customerId, kind: 'welcome' },
  });
  if (created) await send(payload.email);
  return created ? 'sent' : 'already sent';
}
