// Every row shape the SQL returns, parsed by the zod output schema the procedures declare (strict:
// no column more, none less), on a real PostgreSQL. A column renamed or added in sql.ts fails here.
import { type OpenTestDatabase, openTestDatabase } from "@todo/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { zList } from "../list/schemas.ts";
import { insertList } from "../list/sql.ts";
import { zMe } from "../root.ts";
import type { Statement } from "../sql.ts";
import { ensureUserStatement, meStatement } from "../user/sql.ts";
import { FEED_START } from "./cursor.ts";
import { zDeleted, zTask, zTaskListInput, zTaskStats } from "./schemas.ts";
import {
  changesStatement,
  clearCompletedStatement,
  deleteTaskStatement,
  existingTask,
  inboxFirstPlace,
  insertTask,
  listStatements,
  nextSibling,
  purgeTombstonesStatement,
  readinessProbe,
  selectTask,
  siblingIds,
  taskExists,
  taskStatsStatement,
  toggleStatement,
  updateTaskStatement,
} from "./sql.ts";

let handle: OpenTestDatabase;
beforeAll(async () => {
  handle = await openTestDatabase({ prefix: "todo_test_api_sql", poolMax: 2 });
});
afterAll(() => handle.close());

const rows = async (statement: Statement) => (await handle.pool.query(statement)).rows;
const task = zTask.strict();

it("returns rows exactly in the shapes the procedures promise", async () => {
  const userId = `user_${crypto.randomUUID()}`;
  expect(await rows(ensureUserStatement(userId))).toEqual([]);
  const [me] = await rows(meStatement(userId));
  zMe.strict().parse(me);

  // The users row came with its Inbox, empty so far.
  const [inbox] = await rows(inboxFirstPlace(userId));
  expect(inbox).toEqual({ listId: expect.any(String), first: null });
  const id = crypto.randomUUID();
  const [created] = await rows(
    insertTask({
      id,
      userId,
      listId: inbox.listId,
      position: "a0",
      parentId: null,
      labels: [],
      title: "t",
      description: null,
      priority: "high",
      dueAt: new Date("2030-01-01T00:00:00Z"),
      completed: true,
      createDigest: null,
    }),
  );
  expect(task.parse(created)).toMatchObject({
    id,
    completed: true,
    dueAt: "2030-01-01T00:00:00.000Z",
  });
  expect(created.completedAt).not.toBeNull();
  expect(await rows(inboxFirstPlace(userId))).toEqual([{ listId: inbox.listId, first: "a0" }]);

  task.parse((await rows(selectTask(userId, id)))[0]);
  const [toggled] = await rows(toggleStatement(userId, id, 1));
  expect(task.parse(toggled)).toMatchObject({ completed: false, completedAt: null, version: 2 });
  const [updated] = await rows(
    updateTaskStatement(userId, id, 2, {
      title: "u",
      description: "d",
      labels: ["Home"],
      priority: "low",
      dueAt: null,
      completed: true,
    }),
  );
  expect(task.parse(updated)).toMatchObject({ title: "u", completed: true, version: 3 });
  // A stale version writes nothing.
  expect(await rows(updateTaskStatement(userId, id, 2, { ...updated, dueAt: null }))).toEqual([]);

  for (const sort of ["createdAt", "updatedAt", "dueAt", "priority", "title"] as const) {
    const input = zTaskListInput.parse({ sort });
    for (const statement of listStatements(userId, input, undefined)) {
      for (const row of await rows(statement(10))) task.parse(row);
    }
  }
  zTaskStats.strict().parse((await rows(taskStatsStatement(userId)))[0]);
  expect(await rows(taskExists(userId, id))).toHaveLength(1);
  expect((await rows(readinessProbe))[0]).toEqual({ n: 0 });
  zDeleted.strict().parse((await rows(deleteTaskStatement(userId, id, 3)))[0]);
  expect(await rows(taskExists(userId, id))).toEqual([]);

  // The feed: each change's kind, id, position and tombstone flag, its task or list as JSON, and
  // the purge horizon.
  const feedRow = z
    .object({
      purgedXid: z.string().regex(/^\d+$/),
      purgedId: z.uuid(),
      xmin: z.string().regex(/^\d+$/),
      xmax: z.string().regex(/^\d+$/),
      withheld: z.boolean(),
      xid: z.string().regex(/^\d+$/),
      changeId: z.uuid(),
      kind: z.enum(["task", "list"]),
      deleted: z.boolean(),
      data: z.union([task, zList.strict()]).nullable(),
    })
    .strict();
  // The feed holds a change back while any older transaction on the server still runs (other
  // suites write beside this one): read until it is released, as a client's next poll would.
  // A list of the user's own (the Inbox as the user was born with it is not in the feed).
  const listId = crypto.randomUUID();
  await rows(insertList({ id: listId, userId, name: "Work", color: null, position: "a1" }));
  let feed = await rows(changesStatement(userId, FEED_START, 10));
  for (let i = 0; i < 200 && feed.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    feed = await rows(changesStatement(userId, FEED_START, 10));
  }
  // The deleted task, then the list.
  expect(feed.map((row) => feedRow.parse(row))).toMatchObject([
    { kind: "task", changeId: id, deleted: true, data: null },
    { kind: "list", changeId: listId, deleted: false, data: { name: "Work", position: "a1" } },
  ]);
  const [nobody] = await rows(changesStatement(`user_${crypto.randomUUID()}`, FEED_START, 10));
  expect(nobody).toMatchObject({ purgedXid: "0", xid: null, changeId: null });
  // A taken id: whose it is, whether deleted, whether the same create, and the task.
  const [existing] = await rows(existingTask(userId, id, null));
  task
    .extend({ mine: z.boolean(), deleted: z.boolean(), sameCreate: z.boolean() })
    .strict()
    .parse(existing);
  expect(existing).toMatchObject({ mine: true, deleted: true, sameCreate: true });
  expect((await handle.pool.query(clearCompletedStatement(userId))).rowCount).toBe(0);
});

it("reads a user's feed as one index range, however many users and changes", async () => {
  const client = await handle.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL enable_seqscan = off");
    const statement = changesStatement("someone", FEED_START, 101);
    const { rows: plan } = await client.query({
      text: `EXPLAIN ${statement.text}`,
      values: statement.values,
    });
    const text = plan.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"]).join("\n");
    expect(text).toMatch(/Index (Only )?Scan using tasks_user_id_change_xid_id_idx/);
    expect(text).toMatch(/Index Cond: .*user_id.*change_xid/s);
    // Tasks and lists are merged in order (Merge Append), never sorted.
    expect(text, text).not.toMatch(/(^|->)\s*Sort\s+\(/m);
    expect(text).toMatch(/Index (Only )?Scan using lists_user_id_change_xid_id_idx/);
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
});

it("finds expired tombstones through an index, not by reading the whole table", async () => {
  const client = await handle.pool.connect();
  try {
    await client.query("BEGIN");
    // The test table is small enough for a sequential scan to win on cost; without an index on
    // deleted_at the plan would still be one, which is what this rules out.
    await client.query("SET LOCAL enable_seqscan = off");
    const statement = purgeTombstonesStatement(30, 1_000);
    const { rows: plan } = await client.query({
      text: `EXPLAIN ${statement.text}`,
      values: statement.values,
    });
    const text = plan.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"]).join("\n");
    expect(text).toMatch(/(Index (Only )?Scan using|Bitmap Index Scan on) tasks_deleted_at_idx/);
    expect(text).not.toMatch(/Seq Scan on tasks/);
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
});

it("scopes every statement to the caller: another user's id matches nothing", async () => {
  const owner = `user_${crypto.randomUUID()}`;
  const other = `user_${crypto.randomUUID()}`;
  await rows(ensureUserStatement(owner));
  const [inbox] = await rows(inboxFirstPlace(owner));
  const id = crypto.randomUUID();
  await rows(
    insertTask({
      id,
      userId: owner,
      listId: inbox.listId,
      position: "a0",
      parentId: null,
      labels: [],
      title: "mine",
      description: null,
      priority: "medium",
      dueAt: null,
      completed: false,
      createDigest: null,
    }),
  );
  const fields = {
    title: "x",
    description: null,
    priority: "low",
    dueAt: null,
    completed: true,
    labels: [],
  };
  expect(await rows(selectTask(other, id))).toEqual([]);
  expect(await rows(taskExists(other, id))).toEqual([]);
  expect(await rows(toggleStatement(other, id, null))).toEqual([]);
  expect(await rows(updateTaskStatement(other, id, 1, fields))).toEqual([]);
  expect(await rows(deleteTaskStatement(other, id, null))).toEqual([]);
  expect((await rows(taskStatsStatement(other)))[0]).toEqual({
    total: 0,
    open: 0,
    completed: 0,
    overdue: 0,
  });
  expect(task.parse((await rows(selectTask(owner, id)))[0])).toMatchObject({
    title: "mine",
    version: 1,
  });
});

it("gives every user exactly one Inbox, whoever inserts the users row", async () => {
  const userId = `user_${crypto.randomUUID()}`;
  await handle.pool.query("INSERT INTO users (id) VALUES ($1)", [userId]);
  await rows(ensureUserStatement(userId));
  const lists = await rows({
    name: "test_lists_of",
    text: `SELECT name, is_default AS "isDefault", convert_from(position, 'UTF8') AS position
             FROM lists WHERE user_id = $1`,
    values: [userId],
  });
  expect(lists).toEqual([{ name: "Inbox", isDefault: true, position: "a0" }]);
  // A second default list for the same user is refused by the database itself.
  await expect(
    handle.pool.query(
      `INSERT INTO lists (id, user_id, name, position, is_default)
       VALUES (gen_random_uuid(), $1, 'Another', convert_to('a1', 'UTF8'), true)`,
      [userId],
    ),
  ).rejects.toMatchObject({ code: "23505" });
});

it("makes a task naming another user's list or parent impossible in the database itself", async () => {
  const owner = `user_${crypto.randomUUID()}`;
  const other = `user_${crypto.randomUUID()}`;
  await rows(ensureUserStatement(owner));
  await rows(ensureUserStatement(other));
  const [ownerInbox] = await rows(inboxFirstPlace(owner));
  const [otherInbox] = await rows(inboxFirstPlace(other));
  // A plain top-level task of `userId` in `listId`.
  const insert = (id: string, userId: string, listId: string) =>
    rows(
      insertTask({
        id,
        userId,
        listId,
        position: "a0",
        parentId: null,
        labels: [],
        title: "t",
        description: null,
        priority: "medium",
        dueAt: null,
        completed: false,
        createDigest: null,
      }),
    );
  const parentId = crypto.randomUUID();
  await insert(parentId, other, otherInbox.listId);
  // The owner's task in the other user's list: a foreign key violation, whatever the code does.
  await expect(insert(crypto.randomUUID(), owner, otherInbox.listId)).rejects.toMatchObject({
    code: "23503",
  });
  // The owner's task, in the owner's list, as a step of the other user's task: the same.
  const mine = crypto.randomUUID();
  await insert(mine, owner, ownerInbox.listId);
  // The rules trigger refuses it first (23514); under it, the foreign key would (23503).
  await expect(
    handle.pool.query("UPDATE tasks SET parent_id = $2 WHERE id = $1", [mine, parentId]),
  ).rejects.toMatchObject({ code: "23514", constraint: "tasks_subtask_parent" });
  const client = await handle.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query('ALTER TABLE tasks DISABLE TRIGGER "tasks_subtask_rules"');
    await expect(
      client.query("UPDATE tasks SET parent_id = $2 WHERE id = $1", [mine, parentId]),
    ).rejects.toMatchObject({ code: "23503" });
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
  await expect(
    handle.pool.query("UPDATE tasks SET list_id = $2 WHERE id = $1", [mine, otherInbox.listId]),
  ).rejects.toMatchObject({ code: "23503" });
});

it("reads a sibling group in key order from its index, never sorting it", async () => {
  const userId = `user_${crypto.randomUUID()}`;
  await rows(ensureUserStatement(userId));
  const [inbox] = await rows(inboxFirstPlace(userId));
  const parentId = crypto.randomUUID();
  const client = await handle.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(
      "SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off",
    );
    const plan = async (statement: Statement) => {
      const result = await client.query({
        text: `EXPLAIN ${statement.text}`,
        values: statement.values,
      });
      return result.rows.map((r: { "QUERY PLAN": string }) => r["QUERY PLAN"]).join("\n");
    };
    const after = { position: "a0", id: crypto.randomUUID() };
    const moving = crypto.randomUUID();
    const statements: Array<[string, Statement]> = [
      ["the Inbox's first key (every create)", inboxFirstPlace(userId)],
      [
        "a list's first key",
        nextSibling(userId, { listId: inbox.listId, parentId: null }, null, moving),
      ],
      [
        "the next sibling",
        nextSibling(userId, { listId: inbox.listId, parentId: null }, after, moving),
      ],
      [
        "a parent's first key",
        nextSibling(userId, { listId: inbox.listId, parentId }, null, moving),
      ],
      [
        "a group to rebalance",
        siblingIds(userId, { listId: inbox.listId, parentId: null }, moving),
      ],
    ];
    for (const [input, what] of [
      [{ listId: inbox.listId, parentId: null }, "a list's top level in position order"],
      [{ parentId }, "a parent's subtasks in position order, by parent alone"],
    ] as const) {
      const query = zTaskListInput.parse({ ...input, sort: "position", order: "desc" });
      const [page] = listStatements(userId, query, undefined);
      statements.push([what, (page as (take: number) => Statement)(21)]);
    }
    for (const [what, statement] of statements) {
      const text = await plan(statement);
      expect(text, `${what}:\n${text}`).not.toMatch(/(^|->)\s*Sort\s+\(/m);
      expect(text, `${what}:\n${text}`).toMatch(
        /Index (Only )?Scan( Backward)? using tasks_user_id_list_id_parent_id_position_id_idx/,
      );
    }
  } finally {
    await client.query("ROLLBACK");
    client.release();
  }
});
