import { defineTasks } from '@racefree/jobs';
import { z } from 'zod';

/** Payload of `send_welcome_email`: who to welcome. */
export const welcomeEmailPayload = z.object({
  customerId: z.number().int().positive(),
  email: z.email(),
});

/**
 * The bookstore's background tasks. The web app enqueues them, the worker runs them; both
 * validate payloads against these schemas, so a malformed job never reaches a handler.
 */
export const bookstoreTasks = defineTasks({
  send_welcome_email: welcomeEmailPayload,
});

/** The type of `bookstoreTasks`. */
export type BookstoreTasks = typeof bookstoreTasks;
