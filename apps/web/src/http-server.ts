import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';

/** Options of `createHttpServer`. */
export interface HttpServerOptions {
  /** The largest request body handed to the app. Default 64 KiB (`BODY_LIMIT_BYTES`). */
  maxBodyBytes?: number;
  /**
   * A larger body is still read to its end and thrown away — up to this many bytes — so the
   * 413 can leave the connection open for the client's next request. Default 8 MiB. Beyond
   * it, the 413 says `Connection: close` and the connection is closed.
   */
  drainBytes?: number;
}

/** The request body limit of the bookstore API. */
export const BODY_LIMIT_BYTES = 64 * 1024;

type Fetch = Parameters<typeof getRequestListener>[0];

/**
 * The bookstore's HTTP/1.1 server: Hono's Node adapter behind a front that keeps keep-alive
 * honest. A request body is read in full before the app sees it (at most `maxBodyBytes`, handed
 * over as `rawBody`), so no response ever leaves while part of its request is still unread —
 * the state in which a server must either keep reading or close, and a keep-alive client's
 * next request on the socket is lost if it closes without saying so (undici's
 * `UND_ERR_SOCKET`, a proxy's 502). A body over the limit gets 413 after it has been drained,
 * on a connection that stays usable; one too large to drain gets 413 with `Connection: close`.
 * Any response written while its request is still incomplete says `Connection: close` too.
 */
export function createHttpServer(fetch: Fetch, options: HttpServerOptions = {}): Server {
  const maxBodyBytes = options.maxBodyBytes ?? BODY_LIMIT_BYTES;
  const drainBytes = options.drainBytes ?? 8 * 1024 * 1024;
  const handle = getRequestListener(fetch);
  return createServer((request, response) => {
    closeIfIncomplete(request, response);
    if (!hasBody(request)) {
      void handle(request, response);
      return;
    }
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > drainBytes) {
      // Not worth reading: say so, and close once answered.
      tooLarge(response, maxBodyBytes, { close: true });
      return;
    }
    void readBody(request, maxBodyBytes, drainBytes).then((body) => {
      if (body === 'too large') tooLarge(response, maxBodyBytes, { close: !request.complete });
      else if (body === 'failed') response.destroy();
      else {
        (request as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        void handle(request, response);
      }
    });
  });
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

/**
 * The body, or `'too large'` once more than `max` bytes came (the rest is read and dropped up
 * to `drain` bytes, then reading stops), or `'failed'` if the client went away.
 */
function readBody(
  request: IncomingMessage,
  max: number,
  drain: number,
): Promise<Buffer | 'too large' | 'failed'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (outcome: Buffer | 'too large' | 'failed') => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= max) chunks.push(chunk);
      else if (received > drain) {
        // Stop reading: the 413 goes out with Connection: close.
        request.pause();
        finish('too large');
      }
    };
    const onEnd = () => finish(received > max ? 'too large' : Buffer.concat(chunks, received));
    const onError = () => finish('failed');
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

function tooLarge(response: ServerResponse, max: number, options: { close: boolean }): void {
  const body = JSON.stringify({ error: `The body is larger than ${max / 1024} KiB` });
  response.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...(options.close ? { connection: 'close' } : {}),
  });
  response.end(body);
}

/**
 * The safety net: a response whose headers go out before its request was read to the end is
 * marked `Connection: close`, so Node closes the socket after it and the client knows.
 */
function closeIfIncomplete(request: IncomingMessage, response: ServerResponse): void {
  const writeHead = response.writeHead;
  response.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!request.complete && !this.headersSent) this.setHeader('connection', 'close');
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof response.writeHead;
}
