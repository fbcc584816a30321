// Offline-first sync over HTTP: the change feed and its tombstones, client-chosen ids, the
// Idempotency-Key, atomic and non-atomic batches, clearing completed tasks. The property test
// (sync.property.test.ts) and the concurrent-writers test (sync.concurrency.test.ts) play whole
// clients; this file pins each rule down.
import { purgeExpired } from "@todo/api/housekeeping";
import type { AppRouter } from "@todo/api/router";
import { createTRPCClient, httpBatchLink, httpLink } from "@trpc/client";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { rateLimiting } from "../src/http/rate-limit.ts";
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

const tasksOf = (user: TestUser) => `/api/${user.id}/tasks`;

async function create(user: TestUser, body: object, headers?: Record<string, string>) {
  return rest(server, "POST", tasksOf(user), { auth: user.auth, body, headers });
}

/**
 * Waits until every transaction that began before this call has ended, anywhere on the server:
 * the feed holds a change back while an older transaction (another suite's, say) still runs, and
 * these tests expect to read what they just wrote.
 */
async function settled() {
  const admin = new pg.Client({ connectionString: inject("databaseUrl") });
  await admin.connect();
  try {
    const mark = (await admin.query("SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS x"))
      .rows[0].x as string;
    for (let i = 0; i < 400; i++) {
      const { rows } = await admin.query(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8 AS done",
        [mark],
      );
      if (rows[0].done) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    await admin.end();
  }
}

/** Every page of the feed from `since` until it has no more; the pages as they came. */
async function feedPages(user: TestUser, since?: string, limit = 100) {
  await settled();
  const pages: Array<{ data: Array<{ id: string; deleted: boolean; task: null | object }> }> = [];
  let cursor = since;
  for (;;) {
    const query = new URLSearchParams({
      limit: String(limit),
      ...(cursor ? { since: cursor } : {}),
    });
    const res = await rest(server, "GET", `${tasksOf(user)}/changes?${query}`, { auth: user.auth });
    expect(res.status).toBe(200);
    pages.push(res.body);
    cursor = res.body.meta.nextCursor;
    if (!res.body.meta.hasMore) return { pages, cursor: cursor as string };
  }
}

/** A tRPC client that sends each call alone, with extra headers (an Idempotency-Key). */
function keyedClient(user: TestUser, key: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.baseUrl}/trpc`,
        headers: () => ({ authorization: user.auth, "idempotency-key": key }),
      }),
    ],
  });
}

describe("change feed", () => {
  it("syncs from scratch, then reports each later change once, deletions as tombstones", async () => {
    const user = newUser();
    const a = (await create(user, { title: "a" })).body.data;
    const b = (await create(user, { title: "b" })).body.data;
    const full = await feedPages(user);
    const first = full.pages.flatMap((p) => p.data);
    expect(first.map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    expect(first.every((c) => !c.deleted && c.task !== null)).toBe(true);

    // Nothing changed: no changes, and the very same cursor back.
    const idle = await feedPages(user, full.cursor);
    expect(idle.pages[0]?.data).toEqual([]);
    expect(idle.cursor).toBe(full.cursor);

    await rest(server, "PATCH", `${tasksOf(user)}/${a.id}`, {
      auth: user.auth,
      body: { title: "a2" },
    });
    await rest(server, "PATCH", `${tasksOf(user)}/${a.id}`, {
      auth: user.auth,
      body: { title: "a3" },
    });
    await rest(server, "DELETE", `${tasksOf(user)}/${b.id}`, { auth: user.auth });
    const later = await feedPages(user, full.cursor);
    const changes = later.pages.flatMap((p) => p.data);
    // Two updates of a: once, in its latest state; b: a tombstone.
    expect(changes).toEqual([
      {
        kind: "task",
        id: a.id,
        deleted: false,
        task: expect.objectContaining({ title: "a3", version: 3 }),
      },
      { kind: "task", id: b.id, deleted: true, task: null },
    ]);

    // The tombstone is in the feed, and nowhere else.
    expect(
      (await rest(server, "GET", `${tasksOf(user)}/${b.id}`, { auth: user.auth })).status,
    ).toBe(404);
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data.map((t: { id: string }) => t.id)).toEqual([a.id]);
    const stats = await rest(server, "GET", `${tasksOf(user)}/stats`, { auth: user.auth });
    expect(stats.body.data.total).toBe(1);
    for (const [method, path, body] of [
      ["PATCH", `${tasksOf(user)}/${b.id}`, { title: "x" }],
      ["PUT", `${tasksOf(user)}/${b.id}`, { title: "x" }],
      ["PATCH", `${tasksOf(user)}/${b.id}/complete`, undefined],
      ["DELETE", `${tasksOf(user)}/${b.id}`, undefined],
    ] as const) {
      expect((await rest(server, method, path, { auth: user.auth, body })).status, method).toBe(
        404,
      );
    }
    // A full sync still carries the tombstone (a device offline all along learns of it).
    const again = (await feedPages(user)).pages.flatMap((p) => p.data);
    expect(again).toContainEqual({ kind: "task", id: b.id, deleted: true, task: null });
  });

  it("pages by limit without losing or repeating a change, on both surfaces", async () => {
    const user = newUser();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await create(user, { title: `t${i}` })).body.data.id);
    const { pages } = await feedPages(user, undefined, 3);
    expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.data.map((c) => c.id)).sort()).toEqual([...ids].sort());

    const api = trpcClient(server, user.auth);
    const seen: string[] = [];
    let since: string | undefined;
    for (;;) {
      const page = await api.task.changes.query({ since, limit: 4 });
      seen.push(...page.changes.map((c) => c.id));
      since = page.nextCursor;
      if (!page.hasMore) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("refuses cursors it did not make, a list cursor too, with 400", async () => {
    const user = newUser();
    for (let i = 0; i < 3; i++) await create(user, { title: `t${i}` });
    const listCursor = (await rest(server, "GET", `${tasksOf(user)}?limit=1`, { auth: user.auth }))
      .body.meta.nextCursor;
    const forge = (x: string) =>
      Buffer.from(JSON.stringify({ f: 1, x, i: MISSING_ID })).toString("base64url");
    // Past bigint; and a transaction this database has not begun (another database's cursor).
    const forged = [forge("99999999999999999999"), forge("999999999999")];
    for (const since of [listCursor, "nonsense", ...forged, "e30"]) {
      const res = await rest(server, "GET", `${tasksOf(user)}/changes?since=${since}`, {
        auth: user.auth,
      });
      expect(res.status, since).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
    }
  });

  it("answers a cursor older than a purged tombstone with 410 GONE, on both surfaces", async () => {
    const user = newUser();
    // Older than the tombstone, so before the purge horizon in the feed's order.
    const old = [
      (await create(user, { title: "old 1" })).body.data,
      (await create(user, { title: "old 2" })).body.data,
    ];
    const doomed = (await create(user, { title: "doomed" })).body.data;
    const { cursor } = await feedPages(user);
    await rest(server, "DELETE", `${tasksOf(user)}/${doomed.id}`, { auth: user.auth });
    // Backdate the tombstone past a one-day retention, then purge as the server's schedule does.
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    await admin.query("UPDATE tasks SET deleted_at = now() - interval '2 days' WHERE id = $1", [
      doomed.id,
    ]);
    await admin.end();
    const purged = await purgeExpired(server.db, { retentionDays: 1 });
    expect(purged.tombstones).toBeGreaterThanOrEqual(1);

    const gone = await rest(server, "GET", `${tasksOf(user)}/changes?since=${cursor}`, {
      auth: user.auth,
    });
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe("GONE");
    const viaTrpc = await outcome(() =>
      trpcClient(server, user.auth).task.changes.query({ since: cursor }),
    );
    expect(viaTrpc).toMatchObject({ status: 410, code: "GONE" });
    // On the wire too: tRPC answers that one call with 410.
    const wire = await fetch(
      `${server.baseUrl}/trpc/task.changes?input=${encodeURIComponent(JSON.stringify({ since: cursor }))}`,
      { headers: { authorization: user.auth } },
    );
    expect(wire.status).toBe(410);

    // A full sync works, page by page although its pages sit before the horizon, and its last
    // cursor is good from then on.
    const fresh = await feedPages(user, undefined, 1);
    expect(fresh.pages.flatMap((p) => p.data.map((c) => c.id))).toEqual(old.map((t) => t.id));
    const next = await feedPages(user, fresh.cursor);
    expect(next.pages[0]?.data).toEqual([]);
    expect(next.cursor).toBe(fresh.cursor);
  });
});

describe("client-chosen ids", () => {
  it("creates once: the same create again answers the task, other fields or another's id are 409", async () => {
    const user = newUser();
    const id = crypto.randomUUID();
    const body = {
      id,
      title: "offline",
      priority: "high" as const,
      dueAt: "2031-01-02T03:04:05.000+01:00",
    };
    const first = await create(user, body);
    expect(first.status).toBe(201);
    expect(first.body.data.id).toBe(id);
    const retried = await create(user, body);
    expect(retried.status).toBe(201);
    expect(retried.body.data).toEqual(first.body.data);
    expect(retried.headers.get("location")).toBe(first.headers.get("location"));
    // Still the same create after the task changed since (a retry arriving late).
    await rest(server, "PATCH", `${tasksOf(user)}/${id}`, {
      auth: user.auth,
      body: { title: "edited" },
    });
    const late = await create(user, body);
    expect(late.status).toBe(201);
    expect(late.body.data).toMatchObject({ id, title: "edited", version: 2 });
    expect((await rest(server, "GET", tasksOf(user), { auth: user.auth })).body.data).toHaveLength(
      1,
    );

    const different = await create(user, { ...body, title: "something else" });
    expect(different.status).toBe(409);
    expect(different.body.error.code).toBe("CONFLICT");

    // Another user reusing the id: exactly the same answer, nothing about the owner's task.
    const intruder = newUser();
    const foreign = await create(intruder, body);
    expect(foreign.status).toBe(409);
    expect(foreign.body.error).toEqual(different.body.error);
    expect(JSON.stringify(foreign.body)).not.toContain("edited");

    // tRPC: the same rules through task.create.
    const api = trpcClient(server, user.auth);
    expect((await api.task.create.mutate(body)).id).toBe(id);
    expect(await outcome(() => api.task.create.mutate({ ...body, title: "other" }))).toMatchObject({
      status: 409,
      code: "CONFLICT",
    });
  });

  it("does not bring a deleted task back", async () => {
    const user = newUser();
    const id = crypto.randomUUID();
    expect((await create(user, { id, title: "gone soon" })).status).toBe(201);
    await rest(server, "DELETE", `${tasksOf(user)}/${id}`, { auth: user.auth });
    const again = await create(user, { id, title: "gone soon" });
    expect(again.status).toBe(409);
    expect((await rest(server, "GET", `${tasksOf(user)}/${id}`, { auth: user.auth })).status).toBe(
      404,
    );
  });

  it("takes only UUIDs", async () => {
    const user = newUser();
    const res = await create(user, { id: "my-task-1", title: "x" });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.fieldErrors.id).toBeDefined();
  });
});

describe("Idempotency-Key", () => {
  it("gives a repeated request the first answer, marked as replayed, and does nothing again", async () => {
    const user = newUser();
    const task = (await create(user, { title: "t" })).body.data;
    const headers = { "idempotency-key": `"${crypto.randomUUID()}"` };
    const path = `${tasksOf(user)}/${task.id}/complete`;
    const first = await rest(server, "PATCH", path, { auth: user.auth, headers });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const second = await rest(server, "PATCH", path, { auth: user.auth, headers });
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body.data).toEqual(first.body.data);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    // The toggle happened once: completed, version 2.
    const now = await rest(server, "GET", `${tasksOf(user)}/${task.id}`, { auth: user.auth });
    expect(now.body.data).toMatchObject({ completed: true, version: 2 });

    // A create: one task, whatever the number of retries; the key is per user.
    const key = { "idempotency-key": crypto.randomUUID() };
    const made = await create(user, { title: "once" }, key);
    const remade = await create(user, { title: "once" }, key);
    expect(remade.status).toBe(201);
    expect(remade.body.data.id).toBe(made.body.data.id);
    const other = newUser();
    const theirs = await create(other, { title: "once" }, key);
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(theirs.body.data.id).not.toBe(made.body.data.id);
  });

  it("keeps a client error as the answer too, and refuses the key for another request with 422", async () => {
    const user = newUser();
    const headers = { "idempotency-key": crypto.randomUUID() };
    const path = `${tasksOf(user)}/${MISSING_ID}`;
    const missing = await rest(server, "PATCH", path, {
      auth: user.auth,
      body: { title: "x" },
      headers,
    });
    expect(missing.status).toBe(404);
    const again = await rest(server, "PATCH", path, {
      auth: user.auth,
      body: { title: "x" },
      headers,
    });
    expect(again.status).toBe(404);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.error).toEqual(missing.body.error);

    const reused = await rest(server, "PATCH", path, {
      auth: user.auth,
      body: { title: "y" },
      headers,
    });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe("UNPROCESSABLE_CONTENT");
  });

  it("works on tRPC mutations, one per request, and refuses a malformed key", async () => {
    const user = newUser();
    const key = crypto.randomUUID();
    const first = await keyedClient(user, key).task.create.mutate({ title: "trpc once" });
    const second = await keyedClient(user, key).task.create.mutate({ title: "trpc once" });
    expect(second).toEqual(first);
    const wire = await fetch(`${server.baseUrl}/trpc/task.create`, {
      method: "POST",
      headers: {
        authorization: user.auth,
        "idempotency-key": key,
        "content-type": "application/json",
      },
      body: JSON.stringify({ title: "trpc once" }),
    });
    expect(wire.headers.get("idempotent-replayed")).toBe("true");
    const list = await trpcClient(server, user.auth).task.list.query({});
    expect(list.items).toHaveLength(1);

    // Two mutations in one batched request cannot share one key.
    const batched = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${server.baseUrl}/trpc`,
          headers: () => ({ authorization: user.auth, "idempotency-key": crypto.randomUUID() }),
        }),
      ],
    });
    const results = await Promise.allSettled([
      batched.task.create.mutate({ title: "b1" }),
      batched.task.create.mutate({ title: "b2" }),
    ]);
    // Refused whole, before any of it runs.
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const titles = (await trpcClient(server, user.auth).task.list.query({})).items.map(
      (t) => t.title,
    );
    expect(titles).toEqual(["trpc once"]);

    for (const key of ["two words", '""', '"unterminated', "x;p=1", "é"]) {
      const bad = await create(user, { title: "x" }, { "idempotency-key": key });
      expect(bad.status, key).toBe(400);
      expect(bad.body.error.message, key).toMatch(/Idempotency-Key/);
    }
    // Two headers: named as such.
    const two = await create(user, { title: "x" }, { "idempotency-key": "a, b" });
    expect(two.body.error.message).toBe("Send exactly one Idempotency-Key header");

    // An invalid request is refused (400) and keeps nothing: the key can carry the fixed request.
    const fresh = { "idempotency-key": crypto.randomUUID() };
    expect((await create(user, { title: "" }, fresh)).status).toBe(400);
    const fixed = await create(user, { title: "fixed" }, fresh);
    expect(fixed.status).toBe(201);
    expect(fixed.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("batch", () => {
  it("applies operations in order, later ones on ids created by earlier ones", async () => {
    const user = newUser();
    const id = crypto.randomUUID();
    const res = await rest(server, "POST", `${tasksOf(user)}/batch`, {
      auth: user.auth,
      body: {
        ops: [
          { op: "create", id, title: "draft" },
          { op: "update", id, title: "final", priority: "high" },
          { op: "setCompleted", id, completed: true },
          { op: "create", title: "second" },
          { op: "delete", id },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.map((r: { ok: boolean }) => r.ok)).toEqual([true, true, true, true, true]);
    expect(res.body.data[2].task).toMatchObject({
      title: "final",
      priority: "high",
      completed: true,
    });
    expect(res.body.data[4]).toEqual({ ok: true, id, task: null });
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data.map((t: { title: string }) => t.title)).toEqual(["second"]);
  });

  it("atomic: the first failure is the answer, names its index, and nothing is applied", async () => {
    const user = newUser();
    const existing = (await create(user, { title: "keep" })).body.data;
    const body = {
      ops: [
        { op: "create", title: "never" },
        { op: "update", id: existing.id, title: "never either" },
        { op: "update", id: MISSING_ID, title: "fails" },
        { op: "delete", id: existing.id },
      ],
    };
    const res = await rest(server, "POST", `${tasksOf(user)}/batch`, { auth: user.auth, body });
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: "NOT_FOUND", index: 2 });
    expect(res.body.error.message).toMatch(/^Operation 2 \(update\)/);
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data).toEqual([existing]);

    const viaTrpc = await trpcClient(server, user.auth)
      .task.batch.mutate(body as never)
      .catch((error) => error);
    expect(viaTrpc.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404, index: 2 });

    // A stale version fails the batch the same way.
    const stale = await rest(server, "POST", `${tasksOf(user)}/batch`, {
      auth: user.auth,
      body: { ops: [{ op: "delete", id: existing.id, version: 9 }] },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.index).toBe(0);
  });

  it("non-atomic: each operation stands alone and answers for itself", async () => {
    const user = newUser();
    const res = await rest(server, "POST", `${tasksOf(user)}/batch`, {
      auth: user.auth,
      body: {
        atomic: false,
        ops: [
          { op: "create", title: "kept" },
          { op: "setCompleted", id: MISSING_ID, completed: true },
          { op: "create", title: "kept too" },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.data[1]).toEqual({
      ok: false,
      id: MISSING_ID,
      error: { code: "NOT_FOUND", message: "Task not found" },
    });
    expect(res.body.data.filter((r: { ok: boolean }) => r.ok)).toHaveLength(2);
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data).toHaveLength(2);
  });

  it("names the first invalid operation of a batch, on both surfaces", async () => {
    const user = newUser();
    const ops = [
      { op: "create", title: "fine" },
      { op: "create", title: "also fine" },
      { op: "create", title: "" },
    ];
    const res = await rest(server, "POST", `${tasksOf(user)}/batch`, {
      auth: user.auth,
      body: { ops },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "BAD_REQUEST", index: 2 });
    const viaTrpc = await trpcClient(server, user.auth)
      .task.batch.mutate({ ops } as never)
      .catch((error) => error);
    expect(viaTrpc.data).toMatchObject({ code: "BAD_REQUEST", index: 2 });
  });

  it("refuses an empty batch, more than 100 operations, or an unknown op with 400", async () => {
    const user = newUser();
    const path = `${tasksOf(user)}/batch`;
    const many = Array.from({ length: 101 }, () => ({ op: "create", title: "x" }));
    for (const body of [
      { ops: [] },
      { ops: many },
      { ops: [{ op: "explode", id: MISSING_ID }] },
      {},
    ]) {
      const res = await rest(server, "POST", path, { auth: user.auth, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("BAD_REQUEST");
    }
    expect((await rest(server, "GET", tasksOf(user), { auth: user.auth })).body.data).toEqual([]);
  });

  it("counts each operation against the rate limit", async () => {
    const limits = await rateLimiting({
      perUserPerMinute: 10,
      perAnonymousIpPerMinute: 100,
      keyPrefix: `todo-test-${crypto.randomUUID()}`,
      logger: pino({ level: "silent" }),
    });
    const limited = await startServer({ app: { rateLimit: limits.middleware } });
    try {
      const user = newUser();
      const ops = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ op: "create", title: `${i}` }));
      const path = `${tasksOf(user)}/batch`;
      const six = await rest(limited, "POST", path, { auth: user.auth, body: { ops: ops(6) } });
      expect(six.status).toBe(200);
      expect(six.headers.get("ratelimit-remaining")).toBe("4");
      const five = await rest(limited, "POST", path, { auth: user.auth, body: { ops: ops(5) } });
      expect(five.status).toBe(429);
      expect(five.body.error.code).toBe("TOO_MANY_REQUESTS");
      expect(Number(five.headers.get("retry-after"))).toBeGreaterThan(0);
      const list = await rest(limited, "GET", tasksOf(user), { auth: user.auth });
      expect(list.status).toBe(429);
    } finally {
      await limited.close();
      await limits.close();
    }
  });
});

describe("clear completed", () => {
  it("deletes the caller's completed tasks in one call, and only theirs", async () => {
    const user = newUser();
    const other = newUser();
    const theirs = (await create(other, { title: "theirs", completed: true })).body.data;
    const open = (await create(user, { title: "open" })).body.data;
    const done = [
      (await create(user, { title: "done 1", completed: true })).body.data,
      (await create(user, { title: "done 2", completed: true })).body.data,
    ];
    const { cursor } = await feedPages(user);
    const res = await rest(server, "POST", `${tasksOf(user)}/clear-completed`, { auth: user.auth });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ count: 2 });
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data).toEqual([open]);
    const changes = (await feedPages(user, cursor)).pages.flatMap((p) => p.data);
    expect(changes.map((c) => [c.id, c.deleted]).sort()).toEqual(
      done.map((t) => [t.id, true]).sort(),
    );
    const untouched = await rest(server, "GET", `${tasksOf(other)}/${theirs.id}`, {
      auth: other.auth,
    });
    expect(untouched.body.data).toEqual(theirs);
    expect(await trpcClient(server, user.auth).task.clearCompleted.mutate()).toEqual({ count: 0 });
  });
});
