import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export { Prisma, type Task, type User } from "./generated/prisma/client.ts";
export { Priority } from "./generated/prisma/enums.ts";

/**
 * The Prisma client, with the pg pool it runs on: a hot path that needs less than Prisma's per-query
 * work (the task list) sends named prepared statements through the same pool.
 */
export class Db extends PrismaClient {
  readonly pool: pg.Pool;
  constructor(pool: pg.Pool) {
    super({ adapter: new PrismaPg(pool) });
    this.pool = pool;
  }
}

export type DbOptions = {
  url: string;
  /** Pool size; PgBouncer-style poolers (Neon's pooled URL) multiplex these further. */
  poolMax?: number;
  /** Server-side bound on any one statement, in milliseconds. */
  statementTimeoutMs?: number;
  /** How long a request waits for a pooled connection before failing, in milliseconds. */
  connectionTimeoutMs?: number;
};

export type DbHandle = {
  db: Db;
  pool: pg.Pool;
  /** Closes the client and its pool; safe to call more than once. */
  close: () => Promise<void>;
};

/** Creates the Prisma client on a pg pool of our own, so the pool can be observed and closed. */
export function createDb(options: DbOptions): DbHandle {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: "todo-server",
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Db(pool);
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= db.$disconnect().then(() => pool.end());
    return closed;
  };
  return { db, pool, close };
}
