import type { Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { requireCustomer } from './require-customer.js';
import { requireId } from './require-id.js';

/** An email the worker sent. */
export interface SentEmail {
  kind: string;
  sentAt: Date;
}

/** The emails sent to a customer, oldest first; an unknown customer is a `NotFoundError`. */
export async function listSentEmails(db: Database, customerId: number): Promise<SentEmail[]> {
  const id = requireId(customerId, 'customerId');
  await requireCustomer(db, id);
  const dialect = bookstoreDialectOf(db);
  const { sentEmails } = dialect.tables;
  const rows = await dialect.rows<{ kind: string; sent_at: unknown }>(
    db,
    sql`select kind, sent_at from ${sentEmails} where customer_id = ${id} order by sent_at, id`,
  );
  // Raw rows carry the driver's value; the column's own mapping turns it into a Date, per dialect.
  const sentAt = sentEmails.sentAt as unknown as { mapFromDriverValue(value: unknown): Date };
  return rows.map((row) => ({ kind: row.kind, sentAt: sentAt.mapFromDriverValue(row.sent_at) }));
}
