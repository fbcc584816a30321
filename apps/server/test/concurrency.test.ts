// Ordinary use of both surfaces at once: bursts of concurrent reads, writes and tRPC batches, the
// same after the pool has closed its idle connections, and a transaction that no reader may see
// half-done. Runs against PostgreSQL and against the embedded database.
import { createClient } from "@todo/client";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser, rest, startServer, type TestServer, type TestUser } from "./harness.ts";
import { burst as burstOn } from "./support/burst.ts";

const POOL_IDLE_TIMEOUT_MS = 300;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ db: { idleTimeoutMs: POOL_IDLE_TIMEOUT_MS } });
});
afterAll(() => server.close());

const tasksOf = (user: TestUser) => `/api/${user.id}/tasks`;

const burst = (user: TestUser) => burstOn(server, user);

describe("bursts on both surfaces", () => {
  it("answers 40+ concurrent mixed calls, all successfully", async () => {
    await Promise.all([burst(newUser()), burst(newUser())]);
  });

  it("does the same after an idle period longer than the pool's idle timeout", async () => {
    // (The embedded server closes no idle connection of its own; the pool's timeout is the one.)
    await burst(newUser());
    await new Promise((resolve) => setTimeout(resolve, POOL_IDLE_TIMEOUT_MS * 4));
    // The pool closed its idle connections; new ones must start clean.
    expect(server.pool.totalCount).toBe(0);
    await Promise.all([burst(newUser()), burst(newUser())]);
  });
});

describe("transactions", () => {
  it("are never seen half-done by concurrent readers on either surface", async () => {
    const user = newUser();
    await rest(server, "POST", tasksOf(user), { auth: user.auth, body: { title: "first" } });
    const writer = new pg.Client({ connectionString: inject("databaseUrl") });
    await writer.connect();
    // Straight into the user's Inbox, at the front (key "Zz" sorts before the API's first keys).
    const insert = (title: string) =>
      writer.query(
        `INSERT INTO tasks (id, user_id, title, list_id, position)
         SELECT gen_random_uuid(), $1::text, $2, id, convert_to('Zz', 'UTF8')
           FROM lists WHERE user_id = $1::text AND is_default`,
        [user.id, title],
      );
    const api = createClient({ url: server.baseUrl, getToken: () => user.token });
    const counts: number[] = [];
    const read = async () => {
      const [viaRest, viaTrpc] = await Promise.all([
        rest(server, "GET", tasksOf(user), { auth: user.auth }),
        api.task.list.query(),
      ]);
      expect(viaRest.status).toBe(200);
      counts.push(viaRest.body.data.length, viaTrpc.items.length);
    };
    try {
      await writer.query("BEGIN");
      await insert("second");
      const readers = Promise.all(Array.from({ length: 10 }, read));
      await new Promise((resolve) => setTimeout(resolve, 150));
      await insert("third");
      await writer.query("COMMIT");
      await readers;
      await read();
    } finally {
      await writer.end();
    }
    // Before the commit one task, after it three: never two.
    expect(counts.filter((n) => n !== 1 && n !== 3)).toEqual([]);
    expect(counts.at(-1)).toBe(3);
  });
});
