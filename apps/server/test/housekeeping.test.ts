// The purge of expired tombstones and Idempotency-Key answers: one instance at a time, on a
// schedule that never keeps the process alive.
import { purgeExpired } from "@todo/api/housekeeping";
import { createTestDatabase, type TestDatabase } from "@todo/db/testing";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHousekeeping } from "../src/housekeeping.ts";
import { newUser, rest, startServer, type TestServer, type TestUser } from "./harness.ts";

// A database of this file's own: its purges must not take other suites' tombstones, nor theirs
// this file's.
let database: TestDatabase;
let server: TestServer;
let admin: pg.Client;
beforeAll(async () => {
  database = await createTestDatabase({ prefix: "todo_test_housekeeping", migrate: true });
  server = await startServer({ db: { url: database.url } });
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
  await server.close();
  await database.drop();
});

/** `n` tasks of a new user, deleted, their tombstones backdated past a one-day retention. */
async function expiredTombstones(n: number): Promise<TestUser> {
  const user = newUser();
  for (let i = 0; i < n; i++) {
    const { body } = await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: `t${i}` },
    });
    await rest(server, "DELETE", `/api/${user.id}/tasks/${body.data.id}`, { auth: user.auth });
  }
  await admin.query("UPDATE tasks SET deleted_at = now() - interval '2 days' WHERE user_id = $1", [
    user.id,
  ]);
  return user;
}

const rowsOf = async (user: TestUser) =>
  (await admin.query("SELECT count(*)::int AS n FROM tasks WHERE user_id = $1", [user.id])).rows[0]
    .n as number;

describe("purge", () => {
  it("runs on one instance at a time: while another holds the purge, a round skips", async () => {
    const user = await expiredTombstones(3);
    // Another instance purging right now holds the lock (here, for as long as the test wants).
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    await other.query("BEGIN");
    await other.query("SELECT pg_advisory_xact_lock(1953457263, 1)");
    const skipped = await purgeExpired(server.db, { retentionDays: 1 });
    expect(skipped.tombstones).toBe(0);
    expect(await rowsOf(user)).toBe(3);
    await other.query("COMMIT");
    await other.end();

    // Two rounds at once: every tombstone goes exactly once.
    const [a, b] = await Promise.all([
      purgeExpired(server.db, { retentionDays: 1 }),
      purgeExpired(server.db, { retentionDays: 1 }),
    ]);
    expect(a.tombstones + b.tombstones).toBe(3);
    expect(await rowsOf(user)).toBe(0);
  });

  it("keeps tombstones within the retention, and live tasks whatever their age", async () => {
    const user = newUser();
    const { body } = await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: "old but alive" },
    });
    await admin.query("UPDATE tasks SET created_at = now() - interval '400 days' WHERE id = $1", [
      body.data.id,
    ]);
    const recent = await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: "deleted today" },
    });
    await rest(server, "DELETE", `/api/${user.id}/tasks/${recent.body.data.id}`, {
      auth: user.auth,
    });
    await purgeExpired(server.db, { retentionDays: 1 });
    expect(await rowsOf(user)).toBe(2);
  });

  it("purges a deleted list with its tasks and subtasks, each counted, and moves the horizon past them", async () => {
    const user = newUser();
    const call = (method: string, path: string, body?: unknown) =>
      rest(server, method, `/api/${user.id}${path}`, { auth: user.auth, body });
    const list = (await call("POST", "/lists", { name: "old" })).body.data;
    const parent = (await call("POST", "/tasks", { title: "p", listId: list.id })).body.data;
    await call("POST", "/tasks", { title: "s", parentId: parent.id });
    const kept = (await call("POST", "/tasks", { title: "kept" })).body.data;
    const cursor = (await call("GET", "/tasks/changes")).body.meta.nextCursor;
    expect((await call("DELETE", `/lists/${list.id}`)).body.data.deletedTasks).toBe(2);
    for (const table of ["tasks", "lists"]) {
      await admin.query(
        `UPDATE ${table} SET deleted_at = now() - interval '2 days' WHERE user_id = $1 AND deleted_at IS NOT NULL`,
        [user.id],
      );
    }
    const listsOf = async () =>
      (await admin.query("SELECT count(*)::int AS n FROM lists WHERE user_id = $1", [user.id]))
        .rows[0].n as number;
    // Rounds until nothing is left to purge: the subtask before its parent, the tasks before
    // their list, every one of them through the statements that move the horizon.
    let purged = 0;
    for (let round = 0; round < 5; round++) {
      purged += (await purgeExpired(server.db, { retentionDays: 1 })).tombstones;
    }
    expect(await rowsOf(user)).toBe(1);
    expect(await listsOf()).toBe(1);
    expect(purged).toBeGreaterThanOrEqual(3);
    // A cursor from before the deletions may have missed them: 410, sync again.
    expect((await call("GET", `/tasks/changes?since=${cursor}`)).status).toBe(410);
    expect((await call("GET", `/tasks/${kept.id}`)).status).toBe(200);
  });

  it("purges Idempotency-Key answers after 24 hours", async () => {
    const user = newUser();
    const key = crypto.randomUUID();
    const send = () =>
      rest(server, "POST", `/api/${user.id}/tasks`, {
        auth: user.auth,
        body: { title: "keyed" },
        headers: { "idempotency-key": key },
      });
    const first = await send();
    await admin.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1",
      [user.id],
    );
    const { idempotencyKeys } = await purgeExpired(server.db, { retentionDays: 30 });
    expect(idempotencyKeys).toBeGreaterThanOrEqual(1);
    const left = await admin.query("SELECT 1 FROM idempotency_keys WHERE user_id = $1", [user.id]);
    expect(left.rowCount).toBe(0);
    // The key is new again: a second create, not a replay.
    const second = await send();
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(second.body.data.id).not.toBe(first.body.data.id);
  });

  it("runs on its schedule, logs what it purged, and stops cleanly", async () => {
    const user = await expiredTombstones(2);
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const housekeeping = startHousekeeping({
      db: server.db,
      logger,
      retentionDays: 1,
      intervalMs: 60_000,
      firstDelayMs: 10,
    });
    for (let i = 0; i < 100 && (await rowsOf(user)) > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await housekeeping.stop();
    expect(await rowsOf(user)).toBe(0);
    expect(lines.join("")).toMatch(/Purged expired tombstones/);
  });
});
