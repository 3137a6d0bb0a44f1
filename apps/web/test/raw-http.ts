import { connect, type Socket } from 'node:net';

/** A response read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 connection, spoken by hand: requests go out one after another on the same
 * socket, as a keep-alive client (or a reverse proxy) sends them, and `closed` tells whether
 * the server hung up. Bodies are read by Content-Length or chunked encoding.
 */
export class RawConnection {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.waiter?.();
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  /** Opens a connection to `url`'s host and port. */
  static async open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Sends one request and reads its response; rejects if the server closes first. */
  async request(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean } = {},
  ): Promise<RawResponse> {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers: Record<string, string> = { host: 'localhost', ...options.headers };
    if (body && options.chunked) headers['transfer-encoding'] = 'chunked';
    else if (body) headers['content-length'] = String(body.length);
    const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    this.socket.write(head);
    if (body && options.chunked) {
      // Written in 64 KiB chunks, as a streaming client would.
      for (let at = 0; at < body.length; at += 65_536) {
        const piece = body.subarray(at, at + 65_536);
        this.socket.write(`${piece.length.toString(16)}\r\n`);
        this.socket.write(piece);
        this.socket.write('\r\n');
      }
      this.socket.write('0\r\n\r\n');
    } else if (body) this.socket.write(body);
    return this.readResponse();
  }

  close(): void {
    this.socket.destroy();
  }

  private async waitFor<T>(take: () => T | undefined): Promise<T> {
    for (;;) {
      const taken = take();
      if (taken !== undefined) return taken;
      if (this.ended) throw new Error('the server closed the connection before answering');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  private async readResponse(): Promise<RawResponse> {
    const headEnd = await this.waitFor(() => {
      const at = this.buffered.indexOf('\r\n\r\n');
      return at === -1 ? undefined : at;
    });
    const [statusLine = '', ...lines] = this.buffered.subarray(0, headEnd).toString().split('\r\n');
    this.buffered = this.buffered.subarray(headEnd + 4);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    let body = '';
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      await this.waitFor(() => (this.buffered.length >= length ? true : undefined));
      body = this.buffered.subarray(0, length).toString();
      this.buffered = this.buffered.subarray(length);
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const lineEnd = await this.waitFor(() => {
          const at = this.buffered.indexOf('\r\n');
          return at === -1 ? undefined : at;
        });
        const size = Number.parseInt(this.buffered.subarray(0, lineEnd).toString(), 16);
        await this.waitFor(() =>
          this.buffered.length >= lineEnd + 2 + size + 2 ? true : undefined,
        );
        body += this.buffered.subarray(lineEnd + 2, lineEnd + 2 + size).toString();
        this.buffered = this.buffered.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
    }
    return { status, headers, body };
  }
}
