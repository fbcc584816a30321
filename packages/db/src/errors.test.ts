import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "./client.ts";
import { isDatabaseUnavailable } from "./errors.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ prefix: "todo_test_db_errors", migrate: true });
});
afterAll(() => database.drop());

async function errorOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("isDatabaseUnavailable", () => {
  it("is true for a database that refuses connections", async () => {
    const { db, pool, close } = createDb({ url: "postgresql://postgres@127.0.0.1:1/none" });
    // Through Prisma (the seed) and through the pool (every API query).
    expect(isDatabaseUnavailable(await errorOf(() => db.task.count()))).toBe(true);
    expect(isDatabaseUnavailable(await errorOf(() => pool.query("SELECT 1")))).toBe(true);
    await close();
  });

  it("is true when no pooled connection frees up in time", async () => {
    const { db, pool, close } = createDb({
      url: database.url,
      poolMax: 1,
      connectionTimeoutMs: 100,
    });
    const held = await pool.connect();
    expect(isDatabaseUnavailable(await errorOf(() => db.task.count()))).toBe(true);
    expect(isDatabaseUnavailable(await errorOf(() => pool.query("SELECT 1")))).toBe(true);
    held.release();
    await close();
  });

  it("is true for a statement cut by statement_timeout, which the pool applies", async () => {
    const { pool, close } = createDb({ url: database.url, statementTimeoutMs: 150 });
    expect((await pool.query("SHOW statement_timeout")).rows).toEqual([
      { statement_timeout: "150ms" },
    ]);
    expect(isDatabaseUnavailable(await errorOf(() => pool.query("SELECT pg_sleep(1)")))).toBe(true);
    await close();
  });

  it("is false for a bug: a constraint violation, a bad query, a plain error", async () => {
    const { db, pool, close } = createDb({ url: database.url });
    const fk = await errorOf(() =>
      db.task.create({
        data: {
          userId: `nobody-${crypto.randomUUID()}`,
          listId: crypto.randomUUID(),
          position: Buffer.from("a0"),
          title: "orphan",
        },
      }),
    );
    expect(isDatabaseUnavailable(fk)).toBe(false);
    expect(isDatabaseUnavailable(await errorOf(() => pool.query("SELECT * FROM nowhere")))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(isDatabaseUnavailable("a string")).toBe(false);
    await close();
  });

  it("never shows a connection the server dropped while idle: the pool replaces it", async () => {
    const { db, close } = createDb({ url: database.url, poolMax: 1 });
    await db.task.count();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'todo-server'",
    );
    await admin.end();
    expect(rowCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await db.task.count()).toBe(0);
    await close();
  });
});
