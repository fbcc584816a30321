// Lists, manual order, subtasks and labels over both surfaces: the contract a frontend codes
// against, the rules the server keeps, and isolation of every new id a request can name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MISSING_ID,
  newUser,
  outcome,
  rest,
  startServer,
  type TestServer,
  type TestUser,
  trpcClient,
} from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const base = (user: TestUser) => `/api/${user.id}`;
const call = (user: TestUser, method: string, path: string, body?: unknown, headers = {}) =>
  rest(server, method, `${base(user)}${path}`, { auth: user.auth, body, headers });
const withoutRequestId = (body: { meta?: object }) => ({ ...body, meta: { requestId: "<id>" } });

async function newList(user: TestUser, name: string) {
  const res = await call(user, "POST", "/lists", { name });
  expect(res.status).toBe(201);
  return res.body.data as { id: string; name: string; version: number; position: string };
}

async function newTask(user: TestUser, body: Record<string, unknown>) {
  const res = await call(user, "POST", "/tasks", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.data as { id: string; listId: string; parentId: string | null; version: number };
}

/** A sibling group's titles in position order. */
async function titles(user: TestUser, query: string) {
  const res = await call(user, "GET", `/tasks?${query}&sort=position&order=asc&limit=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.data as Array<{ title: string }>).map((t) => t.title);
}

describe("lists", () => {
  it("gives every user one Inbox, first, that cannot be deleted", async () => {
    const user = newUser();
    const all = await call(user, "GET", "/lists");
    expect(all.status).toBe(200);
    expect(all.body.data).toEqual([
      expect.objectContaining({ name: "Inbox", isDefault: true, color: null, version: 1 }),
    ]);
    const inbox = all.body.data[0];
    const refused = await call(user, "DELETE", `/lists/${inbox.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/Inbox.*cannot be deleted/);
    const viaTrpc = await outcome(() => trpcClient(server, user.auth).list.delete.mutate(inbox));
    expect(viaTrpc).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    // Renaming it is fine; it stays the default.
    const renamed = await call(user, "PATCH", `/lists/${inbox.id}`, { name: "Later" });
    expect(renamed.body.data).toMatchObject({ name: "Later", isDefault: true, version: 2 });
  });

  it("creates, reads, renames, recolors, reorders and deletes lists, with versions", async () => {
    const user = newUser();
    const created = await call(user, "POST", "/lists", { name: "  Work ", color: "#FF8800" });
    expect(created.status).toBe(201);
    const work = created.body.data;
    expect(work).toMatchObject({ name: "Work", color: "#ff8800", isDefault: false, version: 1 });
    expect(created.headers.get("location")).toBe(`${base(user)}/lists/${work.id}`);
    expect(created.headers.get("etag")).toBe('"1"');
    const home = await newList(user, "Home");
    const names = async () =>
      ((await call(user, "GET", "/lists")).body.data as Array<{ name: string }>).map((l) => l.name);
    expect(await names()).toEqual(["Inbox", "Work", "Home"]);

    const read = await call(user, "GET", `/lists/${work.id}`);
    expect(read.body.data).toEqual(work);
    expect(read.headers.get("etag")).toBe('"1"');
    // If-Match guards a change; a stale one is 412, a stale body version 409.
    const stale = await call(
      user,
      "PATCH",
      `/lists/${work.id}`,
      { color: null },
      { "if-match": '"7"' },
    );
    expect(stale.status).toBe(412);
    const recolored = await call(
      user,
      "PATCH",
      `/lists/${work.id}`,
      { color: null },
      { "if-match": '"1"' },
    );
    expect(recolored.body.data).toMatchObject({ color: null, version: 2 });
    const conflict = await call(user, "PATCH", `/lists/${work.id}`, { name: "x", version: 1 });
    expect(conflict.status).toBe(409);
    // Reorder: Home first, then Work after Home.
    await call(user, "PATCH", `/lists/${home.id}`, { afterId: null });
    expect(await names()).toEqual(["Home", "Inbox", "Work"]);
    await call(user, "PATCH", `/lists/${work.id}`, { afterId: home.id });
    expect(await names()).toEqual(["Home", "Work", "Inbox"]);
    const self = await call(user, "PATCH", `/lists/${work.id}`, { afterId: work.id });
    expect(self.status).toBe(400);
    const nothing = await call(user, "PATCH", `/lists/${work.id}`, {});
    expect(nothing.status).toBe(400);
    const badColor = await call(user, "POST", "/lists", { name: "x", color: "orange" });
    expect(badColor.body.error.issues.fieldErrors.color).toEqual(["Must be a color as #rrggbb"]);

    const deleted = await call(user, "DELETE", `/lists/${work.id}`);
    expect(deleted.body.data).toEqual({ id: work.id, deletedTasks: 0 });
    expect((await call(user, "GET", `/lists/${work.id}`)).status).toBe(404);
    expect((await call(user, "DELETE", `/lists/${work.id}`)).status).toBe(404);
    expect(await names()).toEqual(["Home", "Inbox"]);
  });

  it("answers a retried create with a client-chosen id, and refuses the id with other fields", async () => {
    const [user, other] = [newUser(), newUser()];
    const id = crypto.randomUUID();
    const first = await call(user, "POST", "/lists", { id, name: "Trips" });
    const again = await call(user, "POST", "/lists", { id, name: "Trips" });
    expect(again.status).toBe(201);
    expect(again.body.data).toEqual(first.body.data);
    const changed = await call(user, "POST", "/lists", { id, name: "Other" });
    expect(changed.status).toBe(409);
    const foreign = await call(other, "POST", "/lists", { id, name: "Trips" });
    expect(foreign.status).toBe(409);
    expect(foreign.body.error.message).toBe(changed.body.error.message);
    expect(JSON.stringify(foreign.body)).not.toContain(user.id);
  });

  it("caps a user's lists at 200, exactly, also under concurrent creates", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const results = await Promise.all(
      Array.from({ length: 205 }, (_, i) =>
        outcome(() => api.list.create.mutate({ name: `L${i}` })),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(199);
    expect(refused.every((r) => r.status === 409 && r.code === "CONFLICT")).toBe(true);
    const res = await call(user, "POST", "/lists", { name: "one more" });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe("At most 200 lists per user; delete one first");
    expect((await api.list.all.query()).length).toBe(200);
  });

  it("deletes a list's tasks and their subtasks with it, as tombstones in the feed", async () => {
    const user = newUser();
    const work = await newList(user, "Work");
    const kept = await newTask(user, { title: "kept" });
    const a = await newTask(user, { title: "a", listId: work.id });
    const sub = await newTask(user, { title: "a.1", parentId: a.id });
    expect(sub.listId).toBe(work.id);
    const b = await newTask(user, { title: "b", listId: work.id });
    const start = await call(user, "GET", "/tasks/changes");
    const cursor = start.body.meta.nextCursor;

    const deleted = await call(user, "DELETE", `/lists/${work.id}`);
    expect(deleted.body.data).toEqual({ id: work.id, deletedTasks: 3 });
    for (const task of [a, sub, b]) {
      expect((await call(user, "GET", `/tasks/${task.id}`)).status).toBe(404);
    }
    expect((await call(user, "GET", `/tasks/${kept.id}`)).status).toBe(200);
    const feed = await call(user, "GET", `/tasks/changes?since=${cursor}`);
    const changes = feed.body.data as Array<{ kind: string; id: string; deleted: boolean }>;
    expect(changes.map(({ kind, id, deleted }) => ({ kind, id, deleted }))).toEqual(
      expect.arrayContaining([
        { kind: "task", id: a.id, deleted: true },
        { kind: "task", id: sub.id, deleted: true },
        { kind: "task", id: b.id, deleted: true },
        { kind: "list", id: work.id, deleted: true },
      ]),
    );
    expect(changes).toHaveLength(4);
    expect(changes.find((c) => c.kind === "list")).toEqual({
      kind: "list",
      id: work.id,
      deleted: true,
      list: null,
    });
  });
});

describe("tasks in lists, subtasks and labels", () => {
  it("puts a new task first in the Inbox, or in a list, or under a parent in the parent's list", async () => {
    const user = newUser();
    const work = await newList(user, "Work");
    const first = await newTask(user, { title: "one" });
    await newTask(user, { title: "two" });
    const [inbox] = (await call(user, "GET", "/lists")).body.data;
    expect(first.listId).toBe(inbox.id);
    expect(await titles(user, `listId=${inbox.id}&parentId=null`)).toEqual(["two", "one"]);
    const parent = await newTask(user, { title: "report", listId: work.id });
    await newTask(user, { title: "draft", parentId: parent.id });
    await newTask(user, { title: "outline", parentId: parent.id, listId: work.id });
    expect(await titles(user, `parentId=${parent.id}`)).toEqual(["outline", "draft"]);
    expect(await titles(user, `listId=${work.id}&parentId=null`)).toEqual(["report"]);
    // The plain list still shows every task; a filter narrows it.
    const all = await call(user, "GET", "/tasks?limit=100");
    expect(all.body.data).toHaveLength(5);
    const inWork = await call(user, "GET", `/tasks?listId=${work.id}`);
    expect(inWork.body.data).toHaveLength(3);

    // One level only, and the parent's list.
    const sub = (await call(user, "GET", `/tasks?parentId=${parent.id}`)).body.data[0];
    const deep = await call(user, "POST", "/tasks", { title: "x", parentId: sub.id });
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toMatch(/one level/);
    const elsewhere = await call(user, "POST", "/tasks", {
      title: "x",
      parentId: parent.id,
      listId: inbox.id,
    });
    expect(elsewhere.status).toBe(400);
    const sorted = await call(user, "GET", "/tasks?sort=position");
    expect(sorted.status).toBe(400);
    expect(sorted.body.error.issues.fieldErrors.sort[0]).toMatch(/listId with parentId=null/);
  });

  it("keeps labels per task (unique ignoring case) and counts them", async () => {
    const user = newUser();
    const a = await newTask(user, { title: "a", labels: [" Home ", "urgent"] });
    await newTask(user, { title: "b", labels: ["home"] });
    const c = await newTask(user, { title: "c" });
    expect((await call(user, "GET", `/tasks/${a.id}`)).body.data.labels).toEqual([
      "Home",
      "urgent",
    ]);
    const labels = await call(user, "GET", "/labels");
    expect(labels.body.data).toEqual([
      { label: "Home", count: 2 },
      { label: "urgent", count: 1 },
    ]);
    expect(await trpcClient(server, user.auth).task.labels.query()).toEqual(labels.body.data);
    const tagged = await call(user, "GET", "/tasks?label=HOME");
    expect((tagged.body.data as Array<{ title: string }>).map((t) => t.title).sort()).toEqual([
      "a",
      "b",
    ]);
    // PATCH sets them; PUT without them clears them.
    const patched = await call(user, "PATCH", `/tasks/${c.id}`, { labels: ["errand"] });
    expect(patched.body.data.labels).toEqual(["errand"]);
    const replaced = await call(user, "PUT", `/tasks/${c.id}`, { title: "c" });
    expect(replaced.body.data.labels).toEqual([]);

    for (const [labels, message] of [
      [["a", "A"], "Labels must be unique (ignoring case)"],
      [Array.from({ length: 21 }, (_, i) => `l${i}`), "At most 20 labels"],
      [["x".repeat(51)], "Must be at most 50 characters"],
      [[" "], "Must not be empty"],
      ["home", "Must be an array"],
    ] as const) {
      const res = await call(user, "POST", "/tasks", { title: "t", labels });
      expect(res.status, JSON.stringify(labels)).toBe(400);
      expect(JSON.stringify(res.body.error.issues)).toContain(message);
    }
  });
});

describe("moves", () => {
  it("places a task after another or first, across lists, in and out of parents", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const work = await newList(user, "Work");
    const [c, b, a] = [
      await newTask(user, { title: "c", listId: work.id }),
      await newTask(user, { title: "b", listId: work.id }),
      await newTask(user, { title: "a", listId: work.id }),
    ];
    const top = `listId=${work.id}&parentId=null`;
    expect(await titles(user, top)).toEqual(["a", "b", "c"]);
    // a after c (REST), then c first (tRPC).
    const moved = await call(user, "POST", `/tasks/${a.id}/move`, { afterId: c.id });
    expect(moved.status).toBe(200);
    expect(moved.body.data).toMatchObject({ id: a.id, version: 2, listId: work.id });
    expect(moved.headers.get("etag")).toBe('"2"');
    expect(await titles(user, top)).toEqual(["b", "c", "a"]);
    await api.task.move.mutate({ id: c.id, afterId: null });
    expect(await titles(user, top)).toEqual(["c", "b", "a"]);
    // Only the moved row changed: b is still at version 1.
    expect((await call(user, "GET", `/tasks/${b.id}`)).body.data.version).toBe(1);

    // b under a, then a (with its subtask) to the Inbox: the subtask follows.
    const step = await api.task.move.mutate({ id: b.id, parentId: a.id });
    expect(step).toMatchObject({ parentId: a.id, listId: work.id });
    const parentRefused = await outcome(() => api.task.move.mutate({ id: a.id, parentId: c.id }));
    expect(parentRefused).toMatchObject({ status: 400, code: "BAD_REQUEST" });
    const [inbox] = await api.list.all.query();
    const carried = await api.task.move.mutate({ id: a.id, listId: inbox?.id });
    expect(carried).toMatchObject({ listId: inbox?.id, parentId: null });
    const follower = await api.task.byId.query({ id: b.id });
    expect(follower).toMatchObject({ listId: inbox?.id, parentId: a.id, version: 3 });
    // Out of the parent again, right after its old parent.
    await api.task.move.mutate({ id: b.id, afterId: a.id });
    expect(await titles(user, `listId=${inbox?.id}&parentId=null`)).toEqual(["a", "b"]);
    // A stale version is refused, as for any write.
    const stale = await outcome(() =>
      api.task.move.mutate({ id: b.id, afterId: null, version: 1 }),
    );
    expect(stale).toMatchObject({ status: 409, code: "CONFLICT" });
    // Mismatched hints are refused, not guessed.
    const mismatch = await call(user, "POST", `/tasks/${c.id}/move`, {
      afterId: a.id,
      listId: work.id,
    });
    expect(mismatch.status).toBe(400);
    const self = await call(user, "POST", `/tasks/${c.id}/move`, { afterId: c.id });
    expect(self.status).toBe(400);
  });

  it("takes ids in any case, If-Match on a move, versions in a DELETE body; a move in place writes nothing", async () => {
    const user = newUser();
    const work = await newList(user, "Work");
    const upper = work.id.toUpperCase();
    const parent = await newTask(user, { title: "p", listId: upper });
    expect(parent.listId).toBe(work.id);
    const sub = await newTask(user, {
      title: "s",
      parentId: parent.id.toUpperCase(),
      listId: upper,
    });
    expect(sub).toMatchObject({ listId: work.id, parentId: parent.id });
    const loose = await newTask(user, { title: "loose" });
    const moved = await call(user, "POST", `/tasks/${loose.id.toUpperCase()}/move`, {
      listId: upper,
      afterId: parent.id.toUpperCase(),
    });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.data).toMatchObject({ id: loose.id, listId: work.id, version: 2 });
    // Already right after p: nothing changes, not even the version.
    const again = await call(user, "POST", `/tasks/${loose.id}/move`, { afterId: parent.id });
    expect(again.body.data).toEqual(moved.body.data);
    const stale = await call(
      user,
      "POST",
      `/tasks/${loose.id}/move`,
      { afterId: null },
      { "if-match": '"1"' },
    );
    expect(stale.status).toBe(412);
    const fresh = await call(
      user,
      "POST",
      `/tasks/${loose.id}/move`,
      { afterId: null },
      { "if-match": '"2"' },
    );
    expect(fresh.body.data).toMatchObject({ version: 3 });
    // A DELETE's body: the version it must find, nothing else.
    expect((await call(user, "DELETE", `/tasks/${loose.id}`, { version: 1 })).status).toBe(409);
    expect((await call(user, "DELETE", `/tasks/${loose.id}`, { whatever: true })).status).toBe(400);
    expect((await call(user, "DELETE", `/lists/${work.id}`, { version: 9 })).status).toBe(409);
    expect((await call(user, "DELETE", `/tasks/${loose.id}`, { version: 3 })).status).toBe(200);
    // Clearing completed tasks takes a completed parent's open subtasks, and counts them.
    await call(user, "PATCH", `/tasks/${parent.id}`, { completed: true });
    const cleared = await call(user, "POST", "/tasks/clear-completed");
    expect(cleared.body.data).toEqual({ count: 2 });
    expect((await call(user, "GET", `/tasks/${sub.id}`)).status).toBe(404);
  });

  it("moves inside a batch, atomically with the rest", async () => {
    const user = newUser();
    const [y, x] = [await newTask(user, { title: "y" }), await newTask(user, { title: "x" })];
    const res = await call(user, "POST", "/tasks/batch", {
      ops: [
        { op: "move", id: x.id, afterId: y.id },
        { op: "update", id: y.id, title: "y2" },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [inbox] = (await call(user, "GET", "/lists")).body.data;
    expect(await titles(user, `listId=${inbox.id}&parentId=null`)).toEqual(["y2", "x"]);
  });

  it("answers another user's list, parent or afterId exactly as a missing one: 404", async () => {
    const [owner, intruder] = [newUser(), newUser()];
    const secretList = await newList(owner, "secret list");
    const secretTask = await newTask(owner, { title: "secret", listId: secretList.id });
    const mine = await newTask(intruder, { title: "mine" });
    const before = await call(owner, "GET", `/tasks/${secretTask.id}`);
    const cases: Array<[string, string, (id: string) => Record<string, unknown>]> = [
      ["POST", "/tasks", (id) => ({ title: "x", listId: id })],
      ["POST", "/tasks", (id) => ({ title: "x", parentId: id })],
      ["POST", `/tasks/${mine.id}/move`, (id) => ({ listId: id })],
      ["POST", `/tasks/${mine.id}/move`, (id) => ({ parentId: id })],
      ["POST", `/tasks/${mine.id}/move`, (id) => ({ afterId: id })],
      ["POST", "/tasks/batch", (id) => ({ ops: [{ op: "move", id: mine.id, afterId: id }] })],
    ];
    for (const [method, path, body] of cases) {
      const target = JSON.stringify(body("x")).includes("listId") ? secretList.id : secretTask.id;
      const foreign = await call(intruder, method, path, body(target));
      const missing = await call(intruder, method, path, body(MISSING_ID));
      expect(foreign.status, `${path} ${JSON.stringify(body(""))}`).toBe(404);
      expect(withoutRequestId(foreign.body)).toEqual(withoutRequestId(missing.body));
      expect(JSON.stringify(foreign.body)).not.toContain("secret");
    }
    // A list of the owner's named in the intruder's list filter or reorder: nothing, or 404.
    const filtered = await call(intruder, "GET", `/tasks?listId=${secretList.id}`);
    expect(filtered.body.data).toEqual([]);
    const [inbox] = (await call(intruder, "GET", "/lists")).body.data;
    const reorder = await call(intruder, "PATCH", `/lists/${inbox.id}`, { afterId: secretList.id });
    const reorderMissing = await call(intruder, "PATCH", `/lists/${inbox.id}`, {
      afterId: MISSING_ID,
    });
    expect(reorder.status).toBe(404);
    expect(withoutRequestId(reorder.body)).toEqual(withoutRequestId(reorderMissing.body));
    expect(await call(owner, "GET", `/tasks/${secretTask.id}`)).toMatchObject({
      body: { data: before.body.data },
    });
  });

  it("shows list changes and moves in the live stream, each saying its kind", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const seen: Array<{ kind: string; id: string }> = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const subscription = api.task.onChange.subscribe(undefined, {
      onStarted: () => started(),
      onData: (event) => seen.push({ kind: event.data.kind, id: event.data.id }),
    });
    try {
      await ready;
      const list = await api.list.create.mutate({ name: "Live" });
      const task = await api.task.create.mutate({ title: "t", listId: list.id });
      const newer = await api.task.create.mutate({ title: "u", listId: list.id });
      await api.task.move.mutate({ id: task.id, afterId: null });
      const until = Date.now() + 5_000;
      while (seen.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([
        { kind: "list", id: list.id },
        { kind: "task", id: task.id },
        { kind: "task", id: newer.id },
        { kind: "task", id: task.id },
      ]);
    } finally {
      subscription.unsubscribe();
    }
  });
});
