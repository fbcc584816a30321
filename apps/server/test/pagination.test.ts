// Keyset pagination: every one of the caller's tasks exactly once, in order, whatever the sort,
// also while tasks are being inserted.

import { TASK_SORT_FIELDS, zTaskListInput } from "@todo/api/task/schemas";
import { listStatements } from "@todo/api/task/sql";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser, startServer, type TestServer, type TestUser, trpcClient } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

type Sort = "createdAt" | "updatedAt" | "dueAt" | "priority" | "title";
const PRIORITY_RANK = { low: 0, medium: 1, high: 2 } as const;
const WORDS = ["alpha", "bravo", "charlie", "delta"];

/** Tasks with many ties: repeated titles, priorities and due dates, and some without due date. */
async function seed(user: TestUser, count: number) {
  const api = trpcClient(server, user.auth);
  const priorities = ["low", "medium", "high"] as const;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const task = await api.task.create.mutate({
      title: WORDS[i % WORDS.length] as string,
      priority: priorities[i % 3],
      dueAt: i % 4 === 0 ? null : new Date(Date.UTC(2030, 0, 1 + (i % 5))).toISOString(),
    });
    ids.push(task.id);
  }
  return ids;
}

async function walk(
  user: TestUser,
  sort: Sort,
  order: "asc" | "desc",
  limit: number,
  between?: () => Promise<void>,
) {
  const api = trpcClient(server, user.auth);
  const items = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = await api.task.list.query({ sort, order, limit, cursor });
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
    await between?.();
  }
  throw new Error("pagination did not end");
}

function key(task: Record<string, unknown>, sort: Sort, order: "asc" | "desc"): number {
  const v = task[sort];
  if (sort === "priority") return PRIORITY_RANK[v as keyof typeof PRIORITY_RANK];
  // Tasks without a due date come last in both directions.
  if (v === null) return order === "asc" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return Date.parse(v as string);
}

describe("task.list pagination", () => {
  const sorts: Sort[] = ["createdAt", "updatedAt", "dueAt", "priority", "title"];
  it.each(
    sorts.flatMap((sort) => [
      [sort, "asc"],
      [sort, "desc"],
    ]) as Array<[Sort, "asc" | "desc"]>,
  )("by %s %s returns each task once, in order", async (sort, order) => {
    const user = newUser();
    const ids = await seed(user, 23);
    const items = await walk(user, sort, order, 5);
    expect(items.map((t) => t.id).sort()).toEqual([...ids].sort());
    // Title order is the database collation's; every other key is checked for monotony.
    if (sort === "title") return;
    const keys = items.map((t) => key(t, sort, order));
    const sorted = [...keys].sort((a, b) => (order === "asc" ? a - b : b - a));
    expect(keys).toEqual(sorted);
  });

  it("stays exact while another client inserts tasks", async () => {
    const user = newUser();
    const ids = await seed(user, 30);
    const other = trpcClient(server, user.auth);
    let inserted = 0;
    const items = await walk(user, "createdAt", "desc", 4, async () => {
      await other.task.create.mutate({ title: `inserted ${inserted++}` });
    });
    const seen = items.map((t) => t.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    // Newest first: tasks inserted during the walk are newer than the cursor, so never shown.
    expect(seen).toHaveLength(ids.length);
    expect(inserted).toBeGreaterThan(5);
  });

  it("continues correctly from a cursor whose task was deleted since", async () => {
    const user = newUser();
    const ids = await seed(user, 9);
    const api = trpcClient(server, user.auth);
    const first = await api.task.list.query({ limit: 3, sort: "title", order: "asc" });
    const last = first.items.at(-1);
    await api.task.delete.mutate({ id: last?.id as string });
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await api.task.list.query({ limit: 3, sort: "title", order: "asc", cursor });
      rest.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    }
    const seen = [...first.items.map((t) => t.id), ...rest];
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("accepts a hand-made cursor whose date only JavaScript would parse, without a 500", async () => {
    const user = newUser();
    await seed(user, 3);
    const cursor = Buffer.from(
      JSON.stringify({
        s: "createdAt",
        o: "desc",
        v: "2030-01",
        i: crypto.randomUUID(),
      }),
    ).toString("base64url");
    const page = await trpcClient(server, user.auth).task.list.query({ cursor });
    expect(page.items).toHaveLength(3);
  });

  it("gives a cursor no power over another user's rows", async () => {
    const alice = newUser();
    const bob = newUser();
    await seed(alice, 6);
    const bobIds = await seed(bob, 3);
    const alicePage = await trpcClient(server, alice.auth).task.list.query({ limit: 2 });
    const cursor = alicePage.nextCursor;
    expect(cursor).not.toBeNull();
    // Bob replays Alice's cursor: he sees only his own tasks.
    const bobPage = await trpcClient(server, bob.auth).task.list.query({ limit: 10, cursor });
    for (const task of bobPage.items) expect(bobIds).toContain(task.id);
  });
});

describe("list query plans", () => {
  // With sequential scans and sorts priced out, the planner still sorts when no index gives the
  // order asked for (as when ORDER BY named the id's text form): every page must be read in index
  // order, and the cursor must be an index condition, not a filter.
  it("reads every sort and order, first page and after a cursor, as index range scans", async () => {
    const user = newUser();
    const [first] = await seed(user, 8);
    const { listId } = await trpcClient(server, user.auth).task.byId.query({ id: first as string });
    const client = new pg.Client({ connectionString: inject("databaseUrl") });
    await client.connect();
    try {
      await client.query(
        "SET enable_seqscan = off; SET enable_sort = off; SET enable_bitmapscan = off",
      );
      const cursorValue = {
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
        dueAt: new Date().toISOString(),
        priority: "medium",
        title: "bravo",
        position: "a0",
      };
      for (const sort of TASK_SORT_FIELDS) {
        for (const order of ["asc", "desc"] as const) {
          // The manual order is kept per list and parent: one list's top level.
          const group = sort === "position" ? { listId, parentId: null } : {};
          const input = zTaskListInput.parse({ sort, order, ...group });
          const cursor = { sort, order, value: cursorValue[sort], id: crypto.randomUUID() };
          for (const after of [undefined, cursor]) {
            for (const statement of listStatements(user.id, input, after)) {
              const { text, values } = statement(21);
              const { rows } = await client.query({ text: `EXPLAIN ${text}`, values });
              const plan = rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
              const what = `${sort} ${order}${after ? " after a cursor" : ""}:\n${plan}`;
              expect(plan, what).not.toMatch(/Sort/);
              expect(plan, what).toMatch(/Index Scan/);
              if (after && !text.includes("due_at IS NULL")) {
                expect(plan, what).toMatch(/Index Cond: .*ROW\(/);
              }
            }
          }
        }
      }
    } finally {
      await client.end();
    }
  });
});
