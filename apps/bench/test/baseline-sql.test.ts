// The baselines' list page in manual order and move must send PostgreSQL what the product sends:
// the same statements, with the same values, in the same transaction. Both run here on one
// database, each through a pool that records every statement, from the same starting rows.
import { createCaller } from "@todo/api/router";
import { createContextInner } from "@todo/api/trpc";
import { Db } from "@todo/db/client";
import { createTestDatabase, type TestDatabase, withClient } from "@todo/db/testing";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { listPage, moveTask } from "../src/baseline-sql.ts";

type Sent = { name?: string; text: string; values?: unknown[] };

const sent: Sent[] = [];

/** A pg client that records what it sends. */
class RecordingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads; the call is passed on as it came
  override query(config: any, ...rest: any[]): any {
    if (typeof config === "string") sent.push({ text: config });
    else sent.push({ name: config.name, text: config.text, values: config.values });
    return super.query(config, ...rest);
  }
}

const USER = "bench-sql-user";
// Top-level tasks of the Inbox, in id order.
const TASKS = [1, 2, 3, 4, 5].map((n) => `00000000-0000-4000-8000-00000000000${n}`);

let database: TestDatabase;
let pool: pg.Pool;
let inbox: string;

beforeAll(async () => {
  database = await createTestDatabase({ prefix: "bench_baseline_sql", migrate: true });
  pool = new pg.Pool({ connectionString: database.url, max: 2, Client: RecordingClient });
  inbox = await withClient(database.url, async (c) => {
    await c.query("INSERT INTO users (id) VALUES ($1)", [USER]);
    const { rows } = await c.query("SELECT id FROM lists WHERE user_id = $1", [USER]);
    return rows[0].id as string;
  });
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** Puts the tasks back at `keys` (one per task, in TASKS order), without recording. */
async function placeTasks(keys: string[]) {
  await withClient(database.url, async (c) => {
    await c.query("DELETE FROM tasks WHERE user_id = $1", [USER]);
    for (const [i, id] of TASKS.entries()) {
      await c.query(
        `INSERT INTO tasks (id, user_id, list_id, position, title, updated_at)
         VALUES ($1, $2, $3, convert_to($4, 'UTF8'), $5, now())`,
        [id, USER, inbox, keys[i], `Task ${i + 1}`],
      );
    }
  });
}

/** What `work` sent. */
async function recorded(work: () => Promise<unknown>): Promise<Sent[]> {
  sent.length = 0;
  await work();
  return [...sent];
}

const product = () =>
  createCaller(
    createContextInner({
      db: new Db(pool),
      identify: async () => ({ userId: USER, expiresAt: Date.now() / 1000 + 3600 }),
    }),
  );

const order = async () =>
  (await pool.query({ text: "SELECT id FROM tasks ORDER BY position, id" })).rows.map((r) => r.id);

it("reads a list's first page in manual order with the product's statement", async () => {
  await placeTasks(["a0", "a1", "a2", "a3", "a4"]);
  let page: unknown;
  const bySql = await recorded(async () => {
    page = await listPage(pool, USER, inbox);
  });
  let items: unknown;
  const byProduct = await recorded(async () => {
    const input = { listId: inbox, parentId: null, sort: "position", order: "asc", limit: 20 };
    items = (await product().task.list(input as never)).items;
  });
  expect(bySql).toEqual(byProduct);
  expect(bySql).toHaveLength(1);
  expect(page).toEqual(items);
});

it("moves a task with the product's statements, in one transaction", async () => {
  const keys = ["a0", "a1", "a2", "a3", "a4"];
  const [first, , third] = TASKS as [string, string, string];
  await placeTasks(keys);
  const byProduct = await recorded(() => product().task.move({ id: first, afterId: third }));
  const productOrder = await order();
  await placeTasks(keys);
  const bySql = await recorded(() => moveTask(pool, USER, first, third));
  expect(bySql).toEqual(byProduct);
  expect(bySql.map((s) => s.text.split(/\s/)[0])).toEqual([
    "BEGIN",
    "SELECT", // where the task sits
    "SELECT", // where afterId sits
    "SELECT", // the lists locked
    "SELECT", // the task locked
    "SELECT", // afterId again
    "SELECT", // the next sibling's key
    "UPDATE", // the move
    "COMMIT",
  ]);
  expect(await order()).toEqual(productOrder);
  expect(productOrder).toEqual([TASKS[1], TASKS[2], first, TASKS[3], TASKS[4]]);
});

it("rebalances the siblings as the product does when no short key is left", async () => {
  // Two siblings sharing a key (two writers placed at one spot at once): nothing fits between.
  const keys = ["a0", "a1", "a1", "a2", "a3"];
  const [first, second] = TASKS as [string, string];
  await placeTasks(keys);
  const byProduct = await recorded(() => product().task.move({ id: first, afterId: second }));
  const productOrder = await order();
  await placeTasks(keys);
  const bySql = await recorded(() => moveTask(pool, USER, first, second));
  expect(bySql).toEqual(byProduct);
  expect(bySql.filter((s) => s.text.startsWith("UPDATE"))).toHaveLength(2);
  expect(await order()).toEqual(productOrder);
});
