// REST adapter behaviour beyond the shared security cases: envelopes, status codes, PUT vs PATCH,
// versions, filters, bodies.
import { TOKEN_IN_URL_MESSAGE } from "@todo/api/auth/identity";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, rest, startServer, type TestServer, type TestUser } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const tasksOf = (user: TestUser) => `/api/${user.id}/tasks`;

async function create(user: TestUser, body: object) {
  const res = await rest(server, "POST", tasksOf(user), { auth: user.auth, body });
  expect(res.status).toBe(201);
  return res.body.data;
}

describe("REST envelope", () => {
  it("wraps a created task in { data, meta } with a request id, Location and 201", async () => {
    const user = newUser();
    const res = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: { title: "  Write report  ", priority: "high", dueAt: "2030-01-02T03:04:05+02:00" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`${tasksOf(user)}/${res.body.data.id}`);
    expect(res.headers.get("x-request-id")).toBe(res.body.meta.requestId);
    expect(res.body.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: "Write report",
      description: null,
      completed: false,
      completedAt: null,
      priority: "high",
      dueAt: "2030-01-02T01:04:05.000Z",
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      version: 1,
      // In the Inbox, first, with no parent and no labels, for a client that ignores all of this.
      listId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      parentId: null,
      position: expect.any(String),
      labels: [],
    });
  });

  it("adds limit, count and nextCursor to a list's meta", async () => {
    const user = newUser();
    for (const title of ["a", "b", "c"]) await create(user, { title });
    const res = await rest(server, "GET", `${tasksOf(user)}?limit=2`, { auth: user.auth });
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({
      requestId: expect.any(String),
      limit: 2,
      count: 2,
      nextCursor: expect.any(String),
    });
    const next = await rest(
      server,
      "GET",
      `${tasksOf(user)}?limit=2&cursor=${res.body.meta.nextCursor}`,
      { auth: user.auth },
    );
    expect(next.body.meta).toMatchObject({ count: 1, nextCursor: null });
    expect(next.body.data.map((t: { title: string }) => t.title)).toEqual(["a"]);
  });

  it("echoes a sane inbound X-Request-Id and replaces an unsafe one", async () => {
    const user = newUser();
    const sane = await rest(server, "GET", tasksOf(user), {
      auth: user.auth,
      headers: { "x-request-id": "trace-123.abc" },
    });
    expect(sane.body.meta.requestId).toBe("trace-123.abc");
    const unsafe = await rest(server, "GET", tasksOf(user), {
      auth: user.auth,
      headers: { "x-request-id": "<script>" },
    });
    expect(unsafe.body.meta.requestId).not.toBe("<script>");
  });

  it("answers unknown routes under /api with 404 in the envelope", async () => {
    const user = newUser();
    for (const path of ["/api/nothing", `/api/${user.id}/projects`, `${tasksOf(user)}/a/b/c`]) {
      const res = await rest(server, "GET", path, { auth: user.auth });
      expect(res.status, path).toBe(404);
      expect(res.body, path).toMatchObject({ data: null, error: { code: "NOT_FOUND" } });
    }
  });

  it("answers a known route asked with another method with 405 and Allow", async () => {
    const user = newUser();
    const task = await create(user, { title: "t" });
    const cases: [string, string, string][] = [
      ["POST", `${tasksOf(user)}/stats`, "GET, HEAD"],
      ["PUT", `${tasksOf(user)}/stats`, "GET, HEAD"],
      ["DELETE", tasksOf(user), "GET, HEAD, POST"],
      ["POST", `${tasksOf(user)}/${task.id}`, "GET, HEAD, PUT, PATCH, DELETE"],
      ["GET", `${tasksOf(user)}/${task.id}/complete`, "PATCH"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await rest(server, method, path, { auth: user.auth });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect(res.body).toMatchObject({ data: null, error: { code: "METHOD_NOT_SUPPORTED" } });
    }
    // Still the token first: another user's path is 403 whatever the method.
    const other = newUser();
    expect(
      (await rest(server, "POST", `${tasksOf(user)}/stats`, { auth: other.auth })).status,
    ).toBe(403);
  });

  it("answers a path that is not valid percent-encoding with 400, not 500", async () => {
    const user = newUser();
    for (const bad of ["%E0%A4%A", "%ZZ", "%C0%AF"]) {
      const res = await rest(server, "GET", `${tasksOf(user)}/${bad}`, { auth: user.auth });
      expect(res.status, bad).toBe(400);
      expect(res.body.error, bad).toEqual({ code: "BAD_REQUEST", message: expect.any(String) });
    }
  });

  it("does not advertise the framework", async () => {
    const res = await rest(server, "GET", "/health/live");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });
});

describe("REST bodies", () => {
  it("refuses malformed JSON with 400, a non-JSON body with 415, an oversized one with 413", async () => {
    const user = newUser();
    const malformed = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: '{"title": "x",',
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toEqual({ code: "BAD_REQUEST", message: "Malformed JSON body" });
    for (const body of ["null", "42", '"title"']) {
      const scalar = await rest(server, "POST", tasksOf(user), {
        auth: user.auth,
        body,
        headers: { "content-type": "application/json" },
      });
      expect(scalar.status, body).toBe(400);
      expect(scalar.body.error.message, body).toBe("Body must be a JSON object");
    }

    const form = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: "title=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");

    const huge = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: { title: "x", description: "y".repeat(300_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("PAYLOAD_TOO_LARGE");

    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data).toEqual([]);
  });

  it("refuses server-owned and unknown fields", async () => {
    const user = newUser();
    const task = await create(user, { title: "mine" });
    for (const body of [
      { title: "x", userId: "someone" },
      { title: "x", createdAt: "2020-01-01T00:00:00Z" },
      { title: "x", completedAt: "2020-01-01T00:00:00Z" },
      JSON.parse('{"title":"x","__proto__":{"admin":true}}'),
      { title: "x", constructor: { prototype: {} } },
    ]) {
      const res = await rest(server, "POST", tasksOf(user), { auth: user.auth, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const patchId = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { id: crypto.randomUUID(), title: "moved" },
    });
    expect(patchId.status).toBe(400);
    const patchVersionBump = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { updatedAt: "2020-01-01T00:00:00Z" },
    });
    expect(patchVersionBump.status).toBe(400);
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data).toEqual([task]);
  });

  it("stores hostile-looking and unusual text literally", async () => {
    const user = newUser();
    const titles = [
      "'; DROP TABLE tasks; --",
      "<script>alert(1)</script>",
      "😀 emoji ✓",
      "مرحبا بالعالم",
      "x".repeat(200),
      "😀".repeat(200),
      "%_\\ wildcards",
    ];
    for (const title of titles) {
      const task = await create(user, { title });
      expect(task.title).toBe(title);
    }
    const search = await rest(server, "GET", `${tasksOf(user)}?q=${encodeURIComponent("%_\\")}`, {
      auth: user.auth,
    });
    expect(search.body.data.map((t: { title: string }) => t.title)).toEqual(["%_\\ wildcards"]);
  });

  it("refuses bad text and bad values with field issues", async () => {
    const user = newUser();
    const cases: Array<[object, string]> = [
      [{ title: "" }, "title"],
      [{ title: "   " }, "title"],
      [{ title: "x".repeat(201) }, "title"],
      [{ title: "a\u0000b" }, "title"],
      [{ title: "line\nbreak" }, "title"],
      [{ title: "\ud800 lone surrogate" }, "title"],
      [{ title: 42 }, "title"],
      [{ title: "ok", description: "d".repeat(10_001) }, "description"],
      [{ title: "ok", description: "nul\u0000" }, "description"],
      [{ title: "ok", priority: "urgent" }, "priority"],
      [{ title: "ok", dueAt: "next week" }, "dueAt"],
      [{ title: "ok", dueAt: "2030-02-31T00:00:00Z" }, "dueAt"],
      [{ title: "ok", dueAt: 1_700_000_000 }, "dueAt"],
      [{ title: "ok", completed: "true" }, "completed"],
    ];
    for (const [body, field] of cases) {
      const res = await rest(server, "POST", tasksOf(user), { auth: user.auth, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.issues.fieldErrors[field], JSON.stringify(body)).toBeDefined();
    }
    // A title far over the bound is refused once, not once per check that would refuse it.
    const huge = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: { title: "x".repeat(10_000) },
    });
    expect(huge.body.error.issues.fieldErrors.title).toEqual(["Must be at most 200 characters"]);
    const ok = await create(user, { title: "t".repeat(200), description: "tab\tand\nnewline" });
    expect(ok.description).toBe("tab\tand\nnewline");
  });

  it("refuses bad list parameters with 400", async () => {
    const user = newUser();
    for (const query of [
      "limit=0",
      "limit=101",
      "limit=-1",
      "limit=2.5",
      "limit=ten",
      "limit=1&limit=2",
      "status=done",
      "sort=userId",
      "order=up",
      "dueBefore=yesterday",
      "cursor=not-a-cursor",
      "userId=someone",
    ]) {
      const res = await rest(server, "GET", `${tasksOf(user)}?${query}`, { auth: user.auth });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe("BAD_REQUEST");
    }
  });
});

describe("REST task lifecycle", () => {
  it("PUT replaces: omitted fields return to their defaults", async () => {
    const user = newUser();
    const task = await create(user, {
      title: "full",
      description: "notes",
      priority: "high",
      dueAt: "2030-01-01T00:00:00Z",
      completed: true,
    });
    const res = await rest(server, "PUT", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { title: "bare" },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      title: "bare",
      description: null,
      priority: "medium",
      dueAt: null,
      completed: false,
      completedAt: null,
      version: 2,
    });
  });

  it("PUT without a title says the title is required, in plain words", async () => {
    const user = newUser();
    const task = await create(user, { title: "t" });
    const res = await rest(server, "PUT", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { priority: "high", completed: "yes" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.issues.fieldErrors).toEqual({
      title: ["Required"],
      completed: ["Must be a boolean"],
    });
  });

  it("PATCH changes only what it names; a stale version is 409 and changes nothing", async () => {
    const user = newUser();
    const task = await create(user, { title: "draft", description: "keep me" });
    const patched = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { title: "final", version: 1 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ title: "final", description: "keep me", version: 2 });

    const stale = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { title: "lost update", version: 1 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("CONFLICT");
    const staleReplace = await rest(server, "PUT", `${tasksOf(user)}/${task.id}`, {
      auth: user.auth,
      body: { title: "lost replace", version: 1 },
    });
    expect(staleReplace.status).toBe(409);

    const now = await rest(server, "GET", `${tasksOf(user)}/${task.id}`, { auth: user.auth });
    expect(now.body.data).toMatchObject({ title: "final", version: 2 });
  });

  it("PATCH …/complete toggles completion and its timestamp; stats follow", async () => {
    const user = newUser();
    const task = await create(user, { title: "overdue", dueAt: "2001-01-01T00:00:00Z" });
    await create(user, { title: "later", dueAt: "2999-01-01T00:00:00Z" });
    const stats = async () =>
      (await rest(server, "GET", `${tasksOf(user)}/stats`, { auth: user.auth })).body.data;
    expect(await stats()).toEqual({ total: 2, open: 2, completed: 0, overdue: 1 });

    const done = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}/complete`, {
      auth: user.auth,
    });
    expect(done.body.data).toMatchObject({ completed: true, completedAt: expect.any(String) });
    expect(await stats()).toEqual({ total: 2, open: 1, completed: 1, overdue: 0 });

    const undone = await rest(server, "PATCH", `${tasksOf(user)}/${task.id}/complete`, {
      auth: user.auth,
    });
    expect(undone.body.data).toMatchObject({ completed: false, completedAt: null, version: 3 });
  });

  it("DELETE removes the task; a second DELETE is 404", async () => {
    const user = newUser();
    const task = await create(user, { title: "bye" });
    const del = await rest(server, "DELETE", `${tasksOf(user)}/${task.id}`, { auth: user.auth });
    expect(del.status).toBe(200);
    expect(del.body.data).toEqual({ id: task.id });
    const again = await rest(server, "DELETE", `${tasksOf(user)}/${task.id}`, { auth: user.auth });
    expect(again.status).toBe(404);
    const get = await rest(server, "GET", `${tasksOf(user)}/${task.id}`, { auth: user.auth });
    expect(get.status).toBe(404);
  });

  it("filters by status, priority, due dates and text", async () => {
    const user = newUser();
    await create(user, { title: "Buy MILK", priority: "high", dueAt: "2030-01-10T00:00:00Z" });
    await create(user, { title: "walk", description: "with the milkman", completed: true });
    await create(user, { title: "read", priority: "low", dueAt: "2030-03-01T00:00:00Z" });
    const titles = async (query: string) =>
      (
        await rest(server, "GET", `${tasksOf(user)}?${query}&sort=title&order=asc`, {
          auth: user.auth,
        })
      ).body.data.map((t: { title: string }) => t.title);
    expect(await titles("status=open")).toEqual(["Buy MILK", "read"]);
    expect(await titles("status=completed")).toEqual(["walk"]);
    expect(await titles("priority=high")).toEqual(["Buy MILK"]);
    expect(await titles("q=milk")).toEqual(["Buy MILK", "walk"]);
    expect(await titles("dueBefore=2030-02-01T00:00:00Z")).toEqual(["Buy MILK"]);
    expect(await titles("dueAfter=2030-02-01T00:00:00Z")).toEqual(["read"]);
  });

  it("accepts the Bearer scheme in any case, and never a token in the query string", async () => {
    const user = newUser();
    const lower = await rest(server, "GET", tasksOf(user), { auth: `bearer ${user.token}` });
    expect(lower.status).toBe(200);
    const query = await rest(server, "GET", `${tasksOf(user)}?access_token=${user.token}`);
    expect(query.status).toBe(400);
    expect(query.body.error.message).toBe(TOKEN_IN_URL_MESSAGE);
  });

  it("refuses a token-named URL parameter on every route, even beside a valid header", async () => {
    const user = newUser();
    const task = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: { title: "t" },
    });
    const id = task.body.data.id as string;
    for (const [method, path] of [
      ["GET", `${tasksOf(user)}/stats?token=x`],
      ["GET", `${tasksOf(user)}/${id}?access_token=x`],
      ["POST", `${tasksOf(user)}?access_token=x`],
      ["PATCH", `${tasksOf(user)}/${id}/complete?Bearer=x`],
      ["GET", `${tasksOf(user)}?limit=5&%74oken=x`],
      ["GET", `/api/${user.id}/no-such-route?id_token=x`],
    ] as const) {
      const res = await rest(server, method, path, {
        auth: user.auth,
        ...(method === "POST" ? { body: { title: "never" } } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error.message, `${method} ${path}`).toBe(TOKEN_IN_URL_MESSAGE);
    }
    // Refused before anything ran: the POST created nothing, the PATCH changed nothing.
    const list = await rest(server, "GET", tasksOf(user), { auth: user.auth });
    expect(list.body.data.map((t: { title: string }) => t.title)).toEqual(["t"]);
    expect(list.body.data[0].completed).toBe(false);
    // tRPC answers it in its own shape.
    const trpc = await fetch(
      `${server.baseUrl}/trpc/task.list?input=${encodeURIComponent("{}")}&token=x`,
      { headers: { authorization: user.auth } },
    );
    expect(trpc.status).toBe(400);
    const body = (await trpc.json()) as { error: { message: string; data: { code: string } } };
    expect(body.error.message).toBe(TOKEN_IN_URL_MESSAGE);
    expect(body.error.data.code).toBe("BAD_REQUEST");
  });
});
