import { mkdir } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from "@electric-sql/pglite-socket";
import type { DbOptions } from "@todo/db/client";

export type EmbeddedPostgres = { url: string; dataPath: string; stop: () => Promise<void> };

/**
 * How the app's pool uses the embedded database: no named statements (every connection shares
 * PGlite's one session, so their names would collide), and a few connections, which only wait
 * their turn there (one backend runs one query at a time).
 */
export const EMBEDDED_DB_OPTIONS = {
  poolMax: 4,
  namedStatements: false,
} as const satisfies Partial<DbOptions>;

/** Connections the embedded server accepts at once (the app's pool, Studio, seed, psql). */
export const EMBEDDED_MAX_CONNECTIONS = 32;

/**
 * PostgreSQL compiled to WebAssembly, in this process, persisted under `dataDir`, served on a
 * loopback port so Prisma, its migrations, Studio and psql talk to it as to any PostgreSQL.
 *
 * PGlite has one session, which every connection shares. The server runs one connection's unit of
 * work at a time and never interleaves two (`SessionArbiter`); the session's named prepared
 * statements are everyone's, so the app sends none in this mode (`EMBEDDED_DB_OPTIONS`).
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dataPath = join(dataDir, "pglite");
  await mkdir(dataPath, { recursive: true });
  const db = await PGlite.create(dataPath);
  const { port, stop } = await serveEmbedded(db, "127.0.0.1");
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    dataPath,
    stop: async () => {
      await stop();
      await db.close();
    },
  };
}

type Pending = {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
};

// Frontend messages after which a connection has finished a unit of work, unless it is inside a
// transaction: Sync ends an extended-protocol cycle, Query is a whole simple-protocol exchange,
// Terminate closes; a startup message starts with a zero byte (its length's high byte).
const SYNC = 0x53;
const QUERY = 0x51;
const TERMINATE = 0x58;
const STARTUP = 0x00;
const SYNC_MESSAGE = new Uint8Array([SYNC, 0, 0, 0, 4]);

/**
 * Decides whose messages PGlite's one session runs, so that each connection sees a PostgreSQL of
 * its own. pglite-socket's queue runs messages one at a time in arrival order and only keeps an
 * open transaction to its connection; another connection's BEGIN or COMMIT could still run
 * between one's Bind and Execute and destroy its portal ("portal does not exist"), and a Parse
 * could replace its unnamed statement. Here a connection owns the session from its first message
 * until it is idle again (its Sync or simple Query done, no transaction open); the others' messages
 * wait, in order. It takes the place of pglite-socket's queue behind the library's own handler.
 */
export class SessionArbiter {
  private owner: number | null = null;
  private waiting: Pending[] = [];
  private running = false;

  /**
   * Connections that asked to LISTEN, and how to write to them. PGlite's one session does the
   * listening for all, and a notification arrives in the output of whichever connection's work
   * committed it; it is copied from there to these (between their own exchanges, as PostgreSQL
   * sends one to an idle connection). A connection that did not listen ignores one it receives.
   */
  private readonly listeners = new Map<number, (data: Uint8Array) => void>();

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void) {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.pump();
    });
  }

  /** The connection went away: its queued messages are dropped. */
  clearQueueForHandler(handlerId: number): void {
    this.listeners.delete(handlerId);
    const mine = this.waiting.filter((p) => p.handlerId === handlerId);
    this.waiting = this.waiting.filter((p) => p.handlerId !== handlerId);
    for (const p of mine) p.reject(new Error("connection closed"));
  }

  /** The connection went away owning the session: end its cycle and roll its transaction back. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    // Still the owner meanwhile, so nothing of another connection's runs in between. (`exec`
    // takes PGlite's query lock itself; the raw protocol call needs it taken.)
    try {
      await this.db.runExclusive(() => this.db.execProtocolRaw(SYNC_MESSAGE));
      if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
    } finally {
      this.owner = null;
      void this.pump();
    }
  }

  /** A simple Query starting with LISTEN or UNLISTEN (psql's, pg's listener's) enrols or not. */
  private noteListening(handlerId: number, message: Uint8Array, onData: Pending["onData"]) {
    if (message[0] !== QUERY) return;
    const text = Buffer.from(message.subarray(5, Math.min(message.length, 5 + 16))).toString();
    if (/^\s*LISTEN\s/i.test(text)) this.listeners.set(handlerId, onData);
    else if (/^\s*UNLISTEN\s+\*/i.test(text)) this.listeners.delete(handlerId);
  }

  private next(): Pending | undefined {
    const index =
      this.owner === null ? 0 : this.waiting.findIndex((p) => p.handlerId === this.owner);
    return index < 0 ? undefined : this.waiting.splice(index, 1)[0];
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let item = this.next(); item; item = this.next()) {
        const { handlerId, message, onData } = item;
        let bytes = 0;
        this.noteListening(handlerId, message, onData);
        const scan =
          this.listeners.size > 0
            ? notificationScanner((notification) => {
                for (const [listener, write] of this.listeners) {
                  if (listener !== handlerId) write(notification);
                }
              })
            : undefined;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(message, {
              onRawData: (data) => {
                bytes += data.length;
                scan?.(data);
                onData(data);
              },
            }),
          );
        } catch (error) {
          item.reject(error as Error);
          continue;
        }
        const type = message[0];
        const endsUnit = type === SYNC || type === QUERY || type === TERMINATE || type === STARTUP;
        this.owner = endsUnit && !this.db.isInTransaction() ? null : handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.running = false;
    }
  }
}

const NOTIFICATION = 0x41; // 'A'

/**
 * Picks NotificationResponse messages ('A': process id, channel, payload) out of one exchange's
 * output, which may arrive in chunks that split a message; each whole message is handed on.
 */
export function notificationScanner(
  onNotification: (message: Uint8Array) => void,
): (chunk: Uint8Array) => void {
  let carry: Buffer = Buffer.alloc(0);
  return (chunk) => {
    let buffer = carry.length > 0 ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    let at = 0;
    while (buffer.length - at >= 5) {
      const length = buffer.readInt32BE(at + 1);
      if (buffer.length - at < 1 + length) break;
      if (buffer[at] === NOTIFICATION) {
        onNotification(Uint8Array.prototype.slice.call(buffer, at, at + 1 + length));
      }
      at += 1 + length;
    }
    buffer = buffer.subarray(at);
    carry = buffer;
  };
}

/** A PostgreSQL wire-protocol server on `host` (a free port) in front of `db`. */
export async function serveEmbedded(
  db: PGlite,
  host: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  await db.waitReady;
  const arbiter = new SessionArbiter(db);
  // The handler is typed with pglite-socket's queue class; the arbiter has the three methods it
  // calls (enqueue, clearQueueForHandler, clearTransactionIfNeeded). The version is pinned.
  const queryQueue = arbiter as unknown as PGLiteSocketHandlerOptions["queryQueue"];
  const handlers = new Set<PGLiteSocketHandler>();

  const server = createServer((socket: Socket) => {
    if (handlers.size >= EMBEDDED_MAX_CONNECTIONS) {
      socket.end();
      return;
    }
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
    handlers.add(handler);
    const forget = () => handlers.delete(handler);
    handler.addEventListener("close", forget);
    handler.addEventListener("error", forget);
    handler.attach(socket).catch(() => {
      forget();
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    port: address.port,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...handlers].map((h) => h.detach(true)));
      handlers.clear();
      await closed;
    },
  };
}
