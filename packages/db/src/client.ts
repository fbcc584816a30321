import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PoolClient } from "pg";
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

/** A pg client that sends every statement unnamed (parsed per execution, nothing kept). */
class UnnamedStatementClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads; only the config object changes
  override query(config: any, ...rest: any[]): any {
    if (typeof config === "object" && config !== null && typeof config.name === "string") {
      const { name: _name, ...unnamed } = config;
      return super.query(unnamed, ...rest);
    }
    return super.query(config, ...rest);
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
  /** How long an unused connection stays open before the pool closes it, in milliseconds. */
  idleTimeoutMs?: number;
  /**
   * Named prepared statements (the default). Off for a server whose connections share one session
   * (the embedded PGlite), where two connections preparing the same name would collide.
   */
  namedStatements?: boolean;
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
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: "todo-server",
    ...(options.namedStatements === false ? { Client: UnnamedStatementClient } : {}),
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
