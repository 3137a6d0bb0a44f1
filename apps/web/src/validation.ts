import {
  MAX_TAG_LENGTH,
  MAX_TAGS_PER_CALL,
  normalizeTagName,
  PURCHASE_STRATEGIES,
  TAG_NAME_PATTERN,
} from '@racefree/bookstore';
import type { Context } from 'hono';
import { z } from 'zod';

/**
 * Text a database stores byte for byte on both servers: no NUL (PostgreSQL rejects it in text)
 * and no lone surrogate halves (they cannot be encoded as UTF-8 and would come back altered).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const text = () =>
  z
    .string()
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => !LONE_SURROGATE.test(value), 'must be well-formed Unicode');

/** ISBN-10 or ISBN-13: digits (and a final X for ISBN-10), hyphens allowed. */
const isbn = z
  .string()
  .trim()
  .regex(/^(?:\d[\d-]{8,15}[\dXx])$/, 'must be an ISBN-10 or ISBN-13 (digits and hyphens)')
  .refine(
    (value) => [10, 13].includes(value.replaceAll('-', '').length),
    'must have 10 or 13 digits',
  );

/** A price in currency units with at most two decimals, stored as integer cents. */
const price = z
  .union([z.number(), z.string().regex(/^\d{1,7}(\.\d{1,2})?$/, 'must be a number like 12.50')])
  .transform((value) => Math.round(Number(value) * 100))
  .refine(
    (cents) => Number.isSafeInteger(cents) && cents >= 0 && cents <= 100_000_000,
    'must be between 0 and 1000000',
  );

/** `POST /api/books`: a new book. */
export const newBookBody = z.object({
  isbn,
  title: text().pipe(
    z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  ),
  price,
  quantity: z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(1_000_000, 'must be at most 1000000'),
});

/** `POST /api/books/:id/purchase`: who buys, and how the stock is protected. */
export const purchaseBody = z.object({
  customerId: z
    .number()
    .int('must be a whole number')
    .positive('must be a positive id')
    .max(2_147_483_647, 'is too large'),
  strategy: z
    .enum(PURCHASE_STRATEGIES, { error: `must be one of ${PURCHASE_STRATEGIES.join(', ')}` })
    .default('atomic'),
});

/** `POST /api/customers`: a sign-up. */
export const signUpBody = z.object({
  email: text().pipe(
    z.email('must be an email address').max(200, 'must be at most 200 characters'),
  ),
  name: text().pipe(
    z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  ),
});

/** A tag name, normalised as the bookstore stores it (`normalizeTagName`). */
const tagName = z
  .string({ error: 'must be a string' })
  .transform(normalizeTagName)
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_TAG_LENGTH, `must be at most ${MAX_TAG_LENGTH} characters`)
      .regex(TAG_NAME_PATTERN, 'may hold only letters, digits, spaces and + # . -'),
  );

/** `POST /api/books/:id/tags`: the tags to give the book (1 to 20 names). */
export const tagsBody = z.object({
  tags: z
    .array(tagName, { error: 'must be a list of tag names' })
    .min(1, 'must name at least one tag')
    .max(MAX_TAGS_PER_CALL, `must name at most ${MAX_TAGS_PER_CALL} tags`),
});

/**
 * A lab run's body: a JSON object. The lab checks `strategy` and `clients` itself, since what
 * is valid depends on the race (and names the race in its message).
 */
export const labBody = z.object({
  strategy: z.unknown().optional(),
  clients: z.unknown().optional(),
});

/** A client error the app answers with: status and a message naming what was wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a path id: a positive integer, or 404 (an id that cannot exist names nothing). */
export function pathId(c: Context, name: string, entity: string): number {
  const raw = c.req.param(name) ?? '';
  const id = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1 || id > 2_147_483_647)
    throw new HttpError(404, `No ${entity} has id ${JSON.stringify(raw)}`);
  return id;
}

/** Reads and validates a JSON body; every failure is a 400 that names the field. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new HttpError(415, 'Send the body as JSON (Content-Type: application/json)');
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpError(400, 'The body is not valid JSON');
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'body';
    throw new HttpError(400, `${field}: ${issue?.message ?? 'is invalid'}`);
  }
  return result.data;
}
