import type { Socket } from 'node:net';

const SAVEPOINT = /^\s*savepoint\s/i;

/**
 * What one benchmark client sent: statements (BEGIN, COMMIT and SAVEPOINT included), round
 * trips (how often it waited for the server) and savepoints. Counted below the driver, so
 * racefree, Drizzle and the raw floors are counted alike.
 */
export class StatementCounter {
  statements = 0;
  roundTrips = 0;
  savepoints = 0;
  /** Prepared statements by name (`''`: the unnamed one) → whether it is a SAVEPOINT. */
  private readonly prepared = new Map<string, boolean>();

  /** For mysql2: one request, one answer per statement. */
  onStatement(text: unknown): void {
    this.statements += 1;
    this.roundTrips += 1;
    if (typeof text === 'string' && SAVEPOINT.test(text)) this.savepoints += 1;
  }

  /**
   * Counts the PostgreSQL protocol messages `socket` writes (postgres.js and node-postgres
   * both write whole messages per write): Execute and simple Query are statements; Sync, Flush
   * and simple Query are waits for the server. postgres.js describes a parameterized statement
   * its connection has not prepared (Parse, Describe, Flush — wait — then Bind, Execute, Sync):
   * two round trips. A savepoint is seen in its Parse (then its Binds, postgres.js prepares it
   * once per connection) or its simple Query. Counting at the wire costs every contender the
   * same few nanoseconds; postgres.js' `debug` hook, used once, captured a stack per statement
   * and charged the deeper caller more.
   */
  watch(socket: Socket): Socket {
    const patch = () => {
      const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
      let startup = true;
      socket.write = ((chunk: unknown, ...rest: unknown[]) => {
        // The startup message has no type byte; every later one has.
        if (startup) startup = false;
        else if (Buffer.isBuffer(chunk)) this.count(chunk);
        return write(chunk, ...rest);
      }) as typeof socket.write;
    };
    // Node's connect() puts the prototype's write back: patch once connected (pg connects
    // the socket it is handed, and writes its startup from its own 'connect' listener, later).
    if (socket.remoteAddress !== undefined) patch();
    else socket.once('connect', patch);
    return socket;
  }

  private count(chunk: Buffer): void {
    for (let at = 0; at + 5 <= chunk.length; at += 1 + chunk.readInt32BE(at + 1)) {
      switch (chunk[at]) {
        case 0x45: // E: Execute
          this.statements += 1;
          break;
        case 0x53: // S: Sync
        case 0x48: // H: Flush
          this.roundTrips += 1;
          break;
        case 0x51: // Q: simple Query
          this.statements += 1;
          this.roundTrips += 1;
          if (savepointAt(chunk, at + 5)) this.savepoints += 1;
          break;
        case 0x50: {
          // P: Parse — statement name, then its text
          const name = cString(chunk, at + 5);
          this.prepared.set(name, savepointAt(chunk, at + 6 + Buffer.byteLength(name)));
          break;
        }
        case 0x42: {
          // B: Bind — portal name, then the statement's
          const portal = at + 5;
          if (this.prepared.get(cString(chunk, chunk.indexOf(0, portal) + 1))) this.savepoints += 1;
          break;
        }
      }
    }
  }
}

function cString(chunk: Buffer, from: number): string {
  return chunk.toString('utf8', from, chunk.indexOf(0, from));
}

/** Does the statement text at `from` start with SAVEPOINT? (Cheap: most texts fail the first byte.) */
function savepointAt(chunk: Buffer, from: number): boolean {
  return (
    ((chunk[from] ?? 0) | 0x20) === 0x73 &&
    SAVEPOINT.test(chunk.toString('latin1', from, from + 10))
  );
}
