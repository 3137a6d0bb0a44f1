import { describeDialects } from '@racefree/testkit';
import { atomic, InvalidArgumentError } from '@racefree/transactions';
import { withRollback } from '@racefree/transactions/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  migrate,
  NotFoundError,
  PURCHASE_STRATEGIES,
  type PurchaseStrategy,
  purchase,
  SoldOutError,
  stockReport,
} from '../src/index.js';
import { insertBook, insertCustomers, stockOf } from './helpers.js';

describeDialects('purchase', (t) => {
  let customerId = 0;
  beforeAll(async () => {
    await migrate(t.connection.db);
    [customerId] = (await insertCustomers(t.connection, 1)) as [number];
  });

  describe.each(PURCHASE_STRATEGIES)('strategy %s', (strategy: PurchaseStrategy) => {
    it('sells one copy and writes one order', async () => {
      const bookId = await insertBook(t.connection, 2);
      const result = await purchase(t.connection.db, { bookId, customerId, strategy });
      expect(result).toEqual({ orderId: expect.any(Number), bookId, customerId, strategy });
      expect(await stockOf(t.connection, bookId)).toEqual({ quantity: 1, orders: 1 });
    });

    it('refuses a sold-out book with SoldOutError and writes nothing', async () => {
      const bookId = await insertBook(t.connection, 0);
      const error = await purchase(t.connection.db, { bookId, customerId, strategy }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SoldOutError);
      expect(error).toMatchObject({ code: 'SOLD_OUT', bookId });
      expect(await stockOf(t.connection, bookId)).toEqual({ quantity: 0, orders: 0 });
    });

    it('refuses an unknown book or customer with NotFoundError and writes nothing', async () => {
      const bookId = await insertBook(t.connection, 5);
      await expect(
        purchase(t.connection.db, { bookId: 99_999_999, customerId, strategy }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', entity: 'book', id: 99_999_999 });
      const unknownCustomer = await purchase(t.connection.db, {
        bookId,
        customerId: 99_999_999,
        strategy,
      }).catch((e: unknown) => e);
      expect(unknownCustomer).toBeInstanceOf(NotFoundError);
      expect(unknownCustomer).toMatchObject({ entity: 'customer', id: 99_999_999 });
      expect(await stockOf(t.connection, bookId)).toEqual({ quantity: 5, orders: 0 });
    });

    it('joins the surrounding transaction: rolled back with it', async () => {
      const bookId = await insertBook(t.connection, 3);
      await withRollback(t.connection.db, async () => {
        await purchase(t.connection.db, { bookId, customerId, strategy });
        // Inside, the sale is visible through the transaction…
        expect(await stockReport(t.connection.db, bookId)).toEqual({
          bookId,
          quantity: 2,
          orders: 1,
        });
      });
      // …and it is gone with the rollback.
      expect(await stockOf(t.connection, bookId)).toEqual({ quantity: 3, orders: 0 });
      await expect(
        atomic(t.connection.db, async () => {
          await purchase(t.connection.db, { bookId, customerId, strategy });
          throw new Error('the request failed after the purchase');
        }),
      ).rejects.toThrow('the request failed');
      expect(await stockOf(t.connection, bookId)).toEqual({ quantity: 3, orders: 0 });
    });
  });

  it('refuses bad input before any SQL is sent', async () => {
    const db = t.connection.db;
    await expect(purchase(db, { bookId: 0, customerId, strategy: 'atomic' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(purchase(db, { bookId: 1.5, customerId, strategy: 'atomic' })).rejects.toThrow(
      /bookId must be a whole number from 1 to 2147483647, got 1.5/,
    );
    await expect(purchase(db, { bookId: 2 ** 31, customerId, strategy: 'atomic' })).rejects.toThrow(
      InvalidArgumentError,
    );
    await expect(
      purchase(db, { bookId: 1, customerId, strategy: 'optimistic' as PurchaseStrategy }),
    ).rejects.toThrow(/strategy must be one of 'naive', 'lock', 'atomic'/);
  });
});
