import { requestJson } from './request-json.js';

/**
 * Signs `count` new customers up through the web app (8 at a time) and returns email → id.
 * Throws unless every one is answered 201: this is set-up, not a fault.
 */
export async function signUpCustomers(
  webUrl: string,
  prefix: string,
  count: number,
): Promise<Map<string, number>> {
  const customers = new Map<string, number>();
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const email = `${prefix}-${i}@example.com`;
      const answer = await requestJson(`${webUrl}/api/customers`, {
        body: { email, name: 'Reliability' },
      });
      if (!answer.ok || answer.status !== 201)
        throw new Error(`sign-up of ${email} failed: ${answer.ok ? answer.text : answer.error}`);
      customers.set(email, (answer.body as { customer: { id: number } }).customer.id);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return customers;
}
