import { requestJson } from './request-json.js';

/**
 * Adds two books with deep stock next to the seeded ones (which sell out under load: the
 * sold-out path is exercised too) through the API, and returns every book id.
 */
export async function prepareBooks(webUrl: string, label: string): Promise<number[]> {
  for (let n = 1; n <= 2; n++) {
    const isbn = `979${String(Math.abs(hash(label)) % 1_000_000).padStart(6, '0')}000${n}`;
    const answer = await requestJson(`${webUrl}/api/books`, {
      body: { isbn, title: `Reliability ${label} ${n}`, price: 10, quantity: 100_000 },
    });
    if (!answer.ok || (answer.status !== 201 && answer.status !== 200))
      throw new Error(`could not add a book: ${answer.ok ? answer.text : answer.error}`);
  }
  const books = await requestJson(`${webUrl}/api/books`);
  if (!books.ok || books.status !== 200) throw new Error('could not list the books');
  return (books.body as { id: number }[]).map((book) => book.id);
}

function hash(text: string): number {
  let h = 0;
  for (const char of text) h = (h * 31 + char.charCodeAt(0)) | 0;
  return h;
}
