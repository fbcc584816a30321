// Security headers, CORS, ETag/If-Match, concurrent updates, request logging, request limits,
// keep-alive.
import { connect } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  newUser,
  rest,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestUser,
  trpcClient,
} from "./harness.ts";
import { spawnServer } from "./support/server-process.ts";

const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  },
});

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    app: {
      corsOrigins: ["https://app.example.com"],
      logger: pino({ level: "info" }, logSink),
    },
  });
});
afterAll(() => server.close());

const tasksOf = (user: TestUser) => `/api/${user.id}/tasks`;
async function create(user: TestUser, title = "t") {
  const res = await rest(server, "POST", tasksOf(user), { auth: user.auth, body: { title } });
  return res.body.data as { id: string; version: number };
}

/** tRPC's error shape, as the tests read it. */
type TrpcErrorBody = { error: { message: string; data: Record<string, unknown> } };

describe("headers", () => {
  it("sends standard security headers and no X-Powered-By", async () => {
    const res = await rest(server, "GET", tasksOf(newUser()), { auth: newUser().auth });
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("strict-transport-security")).toContain("max-age=");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    // Not over plain HTTP from another machine: it would send the docs page's assets to https://.
    expect(res.headers.get("content-security-policy")).not.toContain("upgrade-insecure-requests");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  });

  it("allows only the configured browser origins", async () => {
    const user = newUser();
    const allowed = await rest(server, "GET", tasksOf(user), {
      auth: user.auth,
      headers: { origin: "https://app.example.com" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(allowed.headers.get("access-control-expose-headers")).toContain("ETag");
    const other = await rest(server, "GET", tasksOf(user), {
      auth: user.auth,
      headers: { origin: "https://evil.example.com" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await rest(server, "OPTIONS", tasksOf(user), {
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "PATCH",
        "access-control-request-headers": "authorization,content-type,if-match",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("If-Match");
  });
});

describe("ETag and If-Match", () => {
  it("tags a task with its version and makes changes conditional on it", async () => {
    const user = newUser();
    const task = await create(user);
    const url = `${tasksOf(user)}/${task.id}`;
    const got = await rest(server, "GET", url, { auth: user.auth });
    expect(got.headers.get("etag")).toBe('"1"');

    const ok = await rest(server, "PATCH", url, {
      auth: user.auth,
      body: { title: "v2" },
      headers: { "if-match": '"1"' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe('"2"');

    for (const [method, path, body] of [
      ["PATCH", url, { title: "lost" }],
      ["PUT", url, { title: "lost" }],
      ["PATCH", `${url}/complete`, undefined],
      ["DELETE", url, undefined],
    ] as const) {
      const stale = await rest(server, method, path, {
        auth: user.auth,
        body,
        headers: { "if-match": '"1"' },
      });
      expect(stale.status, `${method} ${path}`).toBe(412);
      expect(stale.body.error.code).toBe("PRECONDITION_FAILED");
    }
    const weak = await rest(server, "PATCH", url, {
      auth: user.auth,
      body: { title: "weak" },
      headers: { "if-match": 'W/"2"' },
    });
    expect(weak.status).toBe(412);
    const after = await rest(server, "GET", url, { auth: user.auth });
    expect(after.body.data).toMatchObject({ title: "v2", version: 2 });

    const deleted = await rest(server, "DELETE", url, {
      auth: user.auth,
      headers: { "if-match": '"2"' },
    });
    expect(deleted.status).toBe(200);
  });

  it("refuses a malformed If-Match, or one that disagrees with the body's version", async () => {
    const user = newUser();
    const task = await create(user);
    const url = `${tasksOf(user)}/${task.id}`;
    const malformed = await rest(server, "PATCH", url, {
      auth: user.auth,
      body: { title: "x" },
      headers: { "if-match": "1" },
    });
    expect(malformed.status).toBe(400);
    const disagree = await rest(server, "PATCH", url, {
      auth: user.auth,
      body: { title: "x", version: 2 },
      headers: { "if-match": '"1"' },
    });
    expect(disagree.status).toBe(400);
  });
});

describe("concurrent updates", () => {
  it("two updates carrying the same version: one succeeds, the other is a conflict", async () => {
    const user = newUser();
    for (let round = 0; round < 5; round++) {
      const task = await create(user);
      const url = `${tasksOf(user)}/${task.id}`;
      const results = await Promise.all([
        rest(server, "PATCH", url, { auth: user.auth, body: { title: "a", version: 1 } }),
        trpcClient(server, user.auth)
          .task.update.mutate({ id: task.id, title: "b", version: 1 })
          .then(
            () => 200,
            (e: { data?: { httpStatus?: number } }) => e.data?.httpStatus,
          ),
      ]);
      const statuses = [results[0].status, results[1]].sort();
      expect(statuses).toEqual([200, 409]);
      const final = await rest(server, "GET", url, { auth: user.auth });
      expect(final.body.data.version).toBe(2);
    }
  });
});

describe("request logging", () => {
  it("writes one line per request with id, user, route, status and duration, and no token", async () => {
    const user = newUser();
    const res = await rest(server, "GET", `${tasksOf(user)}?limit=5`, { auth: user.auth });
    const requestId = res.headers.get("x-request-id");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = logLines.filter((l) => l.includes(requestId as string)).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      requestId,
      userId: user.id,
      req: { method: "GET", path: tasksOf(user) },
      res: { status: 200 },
      durationMs: expect.any(Number),
    });
    expect(logLines.join("\n")).not.toContain(user.token);
    expect(logLines.join("\n").toLowerCase()).not.toContain("bearer");
  });
});

describe("request limits", () => {
  it("answers deeply nested JSON with 400, never 500", async () => {
    const user = newUser();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const restDeep = await rest(server, "POST", tasksOf(user), {
      auth: user.auth,
      body: `{"title":"x","description":${deep}}`,
      headers: { "content-type": "application/json" },
    });
    expect(restDeep.status).toBe(400);
    const trpcDeep = await fetch(`${server.baseUrl}/trpc/task.create`, {
      method: "POST",
      headers: { authorization: user.auth, "content-type": "application/json" },
      body: `{"title":${deep}}`,
    });
    expect(trpcDeep.status).toBe(400);
  });

  it("answers an oversized tRPC body with 413 and oversized headers with 431", async () => {
    const user = newUser();
    const big = await fetch(`${server.baseUrl}/trpc/task.create`, {
      method: "POST",
      headers: { authorization: user.auth, "content-type": "application/json" },
      body: JSON.stringify({ title: "x", description: "y".repeat(300_000) }),
    });
    expect(big.status).toBe(413);
    const headers = await fetch(`${server.baseUrl}${tasksOf(user)}`, {
      headers: { authorization: user.auth, "x-padding": "p".repeat(20_000) },
    });
    expect(headers.status).toBe(431);
    expect(await headers.json()).toEqual({
      data: null,
      error: { code: "BAD_REQUEST", message: "Request headers too large" },
      meta: { requestId: headers.headers.get("x-request-id") },
    });
    expect(big.headers.get("x-request-id")).toBeTruthy();
    const bigBody = (await big.json()) as TrpcErrorBody;
    expect(bigBody.error.message).toBe("Request body too large");
    expect(bigBody.error.data.requestId).toBe(big.headers.get("x-request-id"));
    const trpcHeaders = await fetch(`${server.baseUrl}/trpc/task.list`, {
      headers: { authorization: user.auth, "x-padding": "p".repeat(20_000) },
    });
    expect(trpcHeaders.status).toBe(431);
    expect(((await trpcHeaders.json()) as TrpcErrorBody).error.data).toMatchObject({
      code: "BAD_REQUEST",
      httpStatus: 431,
    });
  });

  it("answers malformed tRPC input with 400", async () => {
    const user = newUser();
    const res = await fetch(`${server.baseUrl}/trpc/task.create`, {
      method: "POST",
      headers: { authorization: user.auth, "content-type": "application/json" },
      body: '{"title": ',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as TrpcErrorBody;
    // The same words as REST, not the parser's text.
    expect(body.error.message).toBe("Malformed JSON body");
    expect(body.error.data).toMatchObject({
      code: "BAD_REQUEST",
      requestId: res.headers.get("x-request-id"),
    });
    const query = await fetch(`${server.baseUrl}/trpc/task.byId?input=%7Bbad`, {
      headers: { authorization: user.auth },
    });
    expect(((await query.json()) as TrpcErrorBody).error.message).toBe(
      'Malformed JSON in the "input" parameter',
    );
  });

  it("answers a tRPC body that is not JSON with 415 and the REST adapter's words", async () => {
    const user = newUser();
    const res = await fetch(`${server.baseUrl}/trpc/task.create`, {
      method: "POST",
      headers: { authorization: user.auth, "content-type": "text/plain" },
      body: "title",
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as TrpcErrorBody;
    expect(body.error.message).toBe("Send the body as application/json");
    expect(body.error.data.requestId).toBe(res.headers.get("x-request-id"));
  });
});

describe("keep-alive", () => {
  // Longer than Node's 5 s default, so "still open at 6 s" shows the setting applies; a loaded
  // machine can only make the server's close later, never earlier.
  it("keeps an idle connection open for KEEP_ALIVE_TIMEOUT_MS, then closes it", async () => {
    const spawned = await spawnServer({
      DATABASE_URL: inject("databaseUrl"),
      BETTER_AUTH_SECRET: TEST_SECRET,
      KEEP_ALIVE_TIMEOUT_MS: "8000",
    });
    try {
      const { hostname, port } = new URL(spawned.baseUrl);
      const socket = connect(Number(port), hostname);
      const closed = new Promise<number>((resolve) =>
        socket.on("close", () => resolve(performance.now())),
      );
      const answered = new Promise<string>((resolve) =>
        socket.once("data", (c) => resolve(`${c}`)),
      );
      socket.write(`GET /health/live HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      expect(await answered).toMatch(/^HTTP\/1\.1 200/);
      const idleSince = performance.now();
      const early = await Promise.race([
        closed.then(() => "closed"),
        new Promise((resolve) => setTimeout(() => resolve("open"), 6_000)),
      ]);
      expect(early).toBe("open");
      expect(await closed).toBeGreaterThan(idleSince + 6_000);
    } finally {
      spawned.kill();
    }
  }, 30_000);
});
