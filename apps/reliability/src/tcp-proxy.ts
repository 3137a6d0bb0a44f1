import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in this process, in front of a database server: the apps are
 * pointed at it, and stopping it is an outage they cannot tell from a dead server — the
 * listening port refuses connections and every open connection is cut. Resuming it on the
 * same port is the server coming back.
 */
export class TcpProxy {
  private server: Server | undefined;
  private boundPort = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly target: { host: string; port: number }) {}

  /** Starts a proxy to `target` on a free port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.listen(0);
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    return this.boundPort;
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((client) => {
      // A connection the kernel accepted just before stop() is handed over afterwards: it
      // must not outlive the outage.
      if (this.server !== server) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : port;
  }

  /** The outage: stop listening and cut every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The server is back: listen on the same port again. */
  async resume(): Promise<void> {
    if (!this.server) await this.listen(this.boundPort);
  }
}
