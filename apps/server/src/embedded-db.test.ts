// The embedded server over real sockets, spoken to by pg as the app, Studio or psql do: several
// connections on PGlite's one session must each behave as if they had a PostgreSQL of their own.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveEmbedded } from "./embedded-db.ts";

let db: PGlite;
let url: string;
let stop: () => Promise<void>;
const clients: pg.Client[] = [];

let dataDir: string;

beforeAll(async () => {
  // On disk, as the server keeps it: PGlite then writes to its files after each change, which
  // lets other connections' messages arrive in the middle of a cycle.
  dataDir = await mkdtemp(join(tmpdir(), "todo-pglite-"));
  db = await PGlite.create(dataDir);
  const served = await serveEmbedded(db, "127.0.0.1");
  stop = served.stop;
  url = `postgresql://postgres@127.0.0.1:${served.port}/postgres?sslmode=disable`;
  await db.exec("CREATE TABLE items (id int PRIMARY KEY, batch text NOT NULL)");
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await stop();
  await db.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

describe("embedded PostgreSQL server", () => {
  it("answers each connection's unnamed extended-protocol queries with its own results", async () => {
    const conns = await Promise.all([connect(), connect(), connect(), connect()]);
    // Every query is Parse/Bind/Execute/Sync of the session's unnamed statement and portal: run
    // one message at a time, another connection's Parse would replace them mid-query.
    const perConnection = await Promise.all(
      conns.map(async (c, ci) => {
        const answers = [];
        for (let i = 0; i < 50; i++) {
          // A statement of each connection's own, so a swapped statement shows in the answer.
          const r = await c.query(`SELECT $1::int AS n, 'conn-${ci}' AS tag`, [i]);
          answers.push({ want: { n: i, tag: `conn-${ci}` }, got: r.rows[0] });
        }
        return answers;
      }),
    );
    for (const { want, got } of perConnection.flat()) expect(got).toEqual(want);
  });

  it("never runs another connection's statement between one's Bind and Execute", async () => {
    const [writer, ...readers] = await Promise.all([connect(), connect(), connect(), connect()]);
    // The readers' queries are extended-protocol cycles on the unnamed portal; the writer's
    // simple queries (BEGIN, COMMIT) would destroy that portal if run in the middle of a cycle.
    const reads = Promise.all(
      readers.map(async (reader, ri) => {
        const seen: number[] = [];
        for (let i = ri; i < 200; i += readers.length) {
          seen.push((await reader.query("SELECT $1::int AS n", [i])).rows[0]?.n);
        }
        return seen;
      }),
    ).then((lists) => lists.flat().sort((a, b) => a - b));
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        await writer.query("BEGIN");
        await writer.query(`INSERT INTO items VALUES (${100 + i}, 'cycle')`);
        await writer.query("COMMIT");
      }
    })();
    const [answers] = await Promise.all([reads, writes]);
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("never shows another connection a transaction half-done, nor runs inside it", async () => {
    const [writer, reader] = await Promise.all([connect(), connect()]);
    await writer.query("BEGIN");
    await writer.query("INSERT INTO items VALUES (1, 'tx')");
    // The reader asks while the writer's transaction is open; it must wait for the commit.
    const seen = reader.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM items WHERE batch = $1",
      ["tx"],
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writer.query("INSERT INTO items VALUES (2, 'tx')");
    await writer.query("COMMIT");
    expect((await seen).rows[0]?.n).toBe(2);
  });

  it("rolls back the transaction of a connection that goes away, and serves the others", async () => {
    const [quitter, other] = await Promise.all([connect(), connect()]);
    await quitter.query("BEGIN");
    await quitter.query("INSERT INTO items VALUES (3, 'abandoned')");
    const waiting = other.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM items WHERE batch = 'abandoned'",
    );
    (
      quitter as unknown as { connection: { stream: { destroy(): void } } }
    ).connection.stream.destroy();
    expect((await waiting).rows[0]?.n).toBe(0);
  });

  it("keeps serving after a failed statement on another connection", async () => {
    const [failing, fine] = await Promise.all([connect(), connect()]);
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => "fulfilled",
        () => "rejected",
      );
    const [failures, successes] = await Promise.all([
      (async () => [
        await settle(failing.query("SELECT * FROM no_such_table WHERE id = $1", [1])),
        await settle(failing.query("SELECT 1/0")),
      ])(),
      (async () => [
        await settle(fine.query("SELECT $1::int AS n", [7])),
        await settle(fine.query("SELECT $1::int AS n", [8])),
      ])(),
    ]);
    expect(failures).toEqual(["rejected", "rejected"]);
    expect(successes).toEqual(["fulfilled", "fulfilled"]);
    expect((await failing.query("SELECT $1::int AS n", [9])).rows[0]).toEqual({ n: 9 });
  });
});
