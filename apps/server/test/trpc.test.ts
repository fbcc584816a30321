// The frontend's view: @trpc/client typed by the imported AppRouter, over a real socket.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { newUser, outcome, startServer, type TestServer, trpcClient } from "./harness.ts";
import { tokenWithinSkew } from "./tokens.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe("tRPC API", () => {
  it("runs a task's whole life through the typed client", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);

    const me = await api.me.query();
    expect(me.id).toBe(user.id);
    expect(await api.me.query()).toEqual(me);

    const task = await api.task.create.mutate({ title: "Ship it", priority: "high" });
    expect(task).toMatchObject({
      title: "Ship it",
      priority: "high",
      completed: false,
      version: 1,
    });

    const done = await api.task.setCompleted.mutate({ id: task.id, completed: true });
    expect(done).toMatchObject({ completed: true, version: 2 });
    expect(done.completedAt).not.toBeNull();
    // Idempotent: completing a completed task changes nothing, not even the version.
    expect(await api.task.setCompleted.mutate({ id: task.id, completed: true })).toEqual(done);

    const updated = await api.task.update.mutate({ id: task.id, description: "today", version: 2 });
    expect(updated).toMatchObject({ description: "today", completed: true, version: 3 });
    expect(updated.completedAt).toBe(done.completedAt);

    const toggled = await api.task.toggle.mutate({ id: task.id });
    expect(toggled).toMatchObject({ completed: false, completedAt: null, version: 4 });

    expect(await api.task.byId.query({ id: task.id })).toEqual(toggled);
    expect(await api.task.list.query()).toEqual({ items: [toggled], nextCursor: null });
    expect(await api.task.stats.query()).toEqual({ total: 1, open: 1, completed: 0, overdue: 0 });

    expect(await api.task.delete.mutate({ id: task.id })).toEqual({ id: task.id });
    expect(await outcome(() => api.task.byId.query({ id: task.id }))).toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
  });

  it("answers a stale version with CONFLICT (409)", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const task = await api.task.create.mutate({ title: "v1" });
    await api.task.update.mutate({ id: task.id, title: "v2", version: 1 });
    const stale = await outcome(() =>
      api.task.update.mutate({ id: task.id, title: "x", version: 1 }),
    );
    expect(stale).toMatchObject({ status: 409, code: "CONFLICT" });
  });

  it("never loses one of many concurrent toggles", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const task = await api.task.create.mutate({ title: "contended" });
    await Promise.all(Array.from({ length: 6 }, () => api.task.toggle.mutate({ id: task.id })));
    const after = await api.task.byId.query({ id: task.id });
    // Six toggles: back to open, and every one of them counted.
    expect(after).toMatchObject({ completed: false, version: 7 });
  });

  it("refuses an update with nothing to change", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const task = await api.task.create.mutate({ title: "same" });
    const empty = await outcome(() => api.task.update.mutate({ id: task.id }));
    expect(empty).toMatchObject({ status: 400, code: "BAD_REQUEST" });
  });

  it("accepts a token that expired within the documented clock skew", async () => {
    const user = newUser();
    const api = trpcClient(server, `Bearer ${tokenWithinSkew(user.id)}`);
    expect((await api.me.query()).id).toBe(user.id);
  });

  it("hides internals: errors carry a code and a message, never a stack", async () => {
    const user = newUser();
    const response = await fetch(
      `${server.baseUrl}/trpc/task.byId?input=${encodeURIComponent('{"id":1}')}`,
      {
        headers: { authorization: user.auth },
      },
    );
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toMatch(/stack|at .*\.ts:\d+|prisma|SELECT/i);
    expect(JSON.parse(text).error.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
  });

  it("bounds batches", async () => {
    const user = newUser();
    const calls = Array.from({ length: 11 }, () => "task.stats").join(",");
    const input = encodeURIComponent(JSON.stringify({}));
    const response = await fetch(`${server.baseUrl}/trpc/${calls}?batch=1&input=${input}`, {
      headers: { authorization: user.auth },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as {
      error: { message: string; data: { requestId?: string } };
    };
    expect(body.error.message).toBe("At most 10 calls per batch");
    expect(body.error.data.requestId).toBe(response.headers.get("x-request-id"));
  });

  it("recreates a users row that disappeared behind the per-process cache", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    await api.task.create.mutate({ title: "before" });
    // An operator deletes the account (and, by cascade, its tasks) directly in the database.
    const client = new pg.Client({ connectionString: inject("databaseUrl") });
    await client.connect();
    try {
      await client.query("DELETE FROM users WHERE id = $1", [user.id]);
    } finally {
      await client.end();
    }
    const after = await api.task.create.mutate({ title: "after" });
    expect((await api.task.list.query()).items).toEqual([after]);
    expect((await api.me.query()).id).toBe(user.id);
  });

  it("creates a subject's users row on its first write; reads never write", async () => {
    const user = newUser();
    const api = trpcClient(server, user.auth);
    const client = new pg.Client({ connectionString: inject("databaseUrl") });
    await client.connect();
    const usersRows = async () =>
      (await client.query("SELECT id FROM users WHERE id = $1", [user.id])).rows;
    try {
      expect((await api.task.list.query()).items).toEqual([]);
      expect(await api.task.stats.query()).toMatchObject({ total: 0 });
      expect(await usersRows()).toEqual([]);
      await api.task.create.mutate({ title: "first" });
      expect(await usersRows()).toEqual([{ id: user.id }]);
    } finally {
      await client.end();
    }
  });
});
