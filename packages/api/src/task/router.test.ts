// The task procedures in process, through createCaller on a real PostgreSQL: validation,
// isolation, versions and cursors, with no HTTP in the way (apps/server/test covers HTTP).
import { type OpenTestDatabase, openTestDatabase } from "@todo/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHs256Verifier, signHs256Token } from "../auth/verifier.ts";
import { createCaller } from "../root.ts";
import { createContextInner } from "../trpc.ts";

const SECRET = "router-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const verifier = createHs256Verifier({ secret: SECRET, clockSkewSeconds: 5 });
let handle: OpenTestDatabase;

beforeAll(async () => {
  handle = await openTestDatabase({ prefix: "todo_test_api_router", poolMax: 4 });
});
afterAll(() => handle.close());

/** A caller for a new user with a random id, as protectedProcedure will see it. */
function newCaller() {
  const id = `user_${crypto.randomUUID()}`;
  const token = signHs256Token({ secret: SECRET, userId: id, expiresInSeconds: 600 });
  const ctx = createContextInner({
    db: handle.db,
    verifier,
    credentials: { authorization: [`Bearer ${token}`] },
  });
  return { id, api: createCaller(ctx) };
}

describe("task procedures", () => {
  it("refuse invalid input with field issues, and server-owned fields", async () => {
    const { api } = newCaller();
    await expect(api.task.create({ title: "   " })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      api.task.create({ title: "t", userId: "someone" } as unknown as { title: string }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(api.task.list({ limit: 0 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(api.task.byId({ id: "not-a-uuid" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("keep every user to their own tasks on every operation", async () => {
    const alice = newCaller();
    const bob = newCaller();
    const task = await alice.api.task.create({ title: "alice's", description: "secret" });
    const id = task.id;
    for (const attempt of [
      () => bob.api.task.byId({ id }),
      () => bob.api.task.update({ id, title: "taken" }),
      () => bob.api.task.replace({ id, title: "taken" }),
      () => bob.api.task.setCompleted({ id, completed: true }),
      () => bob.api.task.toggle({ id }),
      () => bob.api.task.delete({ id }),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await bob.api.task.list({})).items).toEqual([]);
    expect(await bob.api.task.stats()).toEqual({ total: 0, open: 0, completed: 0, overdue: 0 });
    expect(await alice.api.task.byId({ id })).toEqual(task);
  });

  it("check versions: a stale one is CONFLICT and changes nothing", async () => {
    const { api } = newCaller();
    const task = await api.task.create({ title: "v1" });
    const v2 = await api.task.update({ id: task.id, title: "v2", version: 1 });
    expect(v2.version).toBe(2);
    await expect(api.task.update({ id: task.id, title: "x", version: 1 })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await expect(api.task.toggle({ id: task.id, version: 1 })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    await expect(api.task.delete({ id: task.id, version: 1 })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(await api.task.byId({ id: task.id })).toEqual(v2);
    const replaced = await api.task.replace({ id: task.id, title: "bare", version: 2 });
    expect(replaced).toMatchObject({ title: "bare", priority: "medium", dueAt: null, version: 3 });
    expect(await api.task.delete({ id: task.id, version: 3 })).toEqual({ id: task.id });
  });

  it("page with cursors: every task once, and another user's cursor reveals nothing", async () => {
    const alice = newCaller();
    const bob = newCaller();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await alice.api.task.create({ title: `t${i}` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    let firstCursor: string | undefined;
    do {
      const page = await alice.api.task.list({ limit: 2, sort: "title", order: "asc", cursor });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
      firstCursor ??= cursor;
    } while (cursor);
    expect(seen).toEqual(created.map((t) => t.id));
    const foreign = await bob.api.task.list({
      limit: 2,
      sort: "title",
      order: "asc",
      cursor: firstCursor,
    });
    expect(foreign.items).toEqual([]);
    await expect(alice.api.task.list({ cursor: "not-a-cursor" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });
});
