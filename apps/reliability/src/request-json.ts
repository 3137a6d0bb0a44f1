/** What one HTTP request came back with: an answer, or no answer at all. */
export type JsonAnswer =
  | { ok: true; status: number; body: unknown; text: string; headers: Headers }
  | { ok: false; error: string };

/**
 * Sends one request and reads the JSON answer. Connection failures (a killed server) come back
 * as `{ ok: false }` — the outcome of a write sent then is unknown to the client — never thrown.
 */
export async function requestJson(
  url: string,
  options: {
    method?: 'GET' | 'POST';
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<JsonAnswer> {
  try {
    const response = await fetch(url, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { ok: true, status: response.status, body, text, headers: response.headers };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
