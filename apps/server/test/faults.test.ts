// Infrastructure faults, played with a loopback TCP proxy between the server and PostgreSQL:
// database down at start, lost mid-request, slow (deadline, pool exhaustion), and SIGTERM with a
// request in flight. The machine's shared PostgreSQL is never touched.
import { Writable } from "node:stream";
import { createTestDatabase } from "@todo/db/testing";
import { pino } from "pino";
import { afterAll, describe, expect, inject, it } from "vitest";
import { newUser, rest, startServer, TEST_SECRET, trpcClient } from "./harness.ts";
import { spawnServer } from "./support/server-process.ts";
import { startTcpProxy, targetOf } from "./support/tcp-proxy.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A proxy of its own, so tests can run in parallel without cutting each other's database. */
async function ownProxy() {
  const p = await startTcpProxy(targetOf(inject("databaseUrl")));
  cleanups.push(() => p.close());
  return p;
}

async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe("database faults", () => {
  it("down at start: the process stays up, readiness 503, and it recovers by itself", async () => {
    const p = await ownProxy();
    p.cut();
    const server = await spawnServer({
      DATABASE_URL: p.via(inject("databaseUrl")),
      BETTER_AUTH_SECRET: TEST_SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
    });
    cleanups.push(server.kill);
    const user = newUser();

    expect((await rest(server, "GET", "/health/live")).status).toBe(200);
    const ready = await rest(server, "GET", "/health/ready");
    expect(ready.status).toBe(503);
    const call = await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth });
    expect(call.status).toBe(503);
    expect(call.headers.get("retry-after")).toBe("5");
    expect(call.body.error).toEqual({
      code: "SERVICE_UNAVAILABLE",
      message: "The database is unavailable; retry shortly",
    });
    await expect(trpcClient(server, user.auth).task.list.query()).rejects.toMatchObject({
      data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503 },
    });

    // Authentication and the 403 need no database: they are decided from the token alone.
    const other = newUser();
    expect((await rest(server, "GET", `/api/${other.id}/tasks`, { auth: user.auth })).status).toBe(
      403,
    );
    expect(
      (await rest(server, "GET", `/api/${user.id}/tasks`, { auth: "Bearer x.y.z" })).status,
    ).toBe(401);

    p.restore();
    const recovered = await until(
      async () => (await rest(server, "GET", "/health/ready")).status === 200,
      10_000,
    );
    expect(recovered).toBe(true);
    expect((await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status).toBe(
      200,
    );
    expect(server.output()).not.toMatch(/"level":50.*unhandled/);
  });

  it("lost mid-request: 503 with Retry-After, and nothing half-written", async () => {
    const p = await ownProxy();
    const server = await startServer({ db: { url: p.via(inject("databaseUrl")) } });
    cleanups.push(() => server.close());
    const user = newUser();
    const path = `/api/${user.id}/tasks`;
    expect((await rest(server, "GET", path, { auth: user.auth })).status).toBe(200);

    p.delayMs = 300;
    const pending = rest(server, "POST", path, { auth: user.auth, body: { title: "in flight" } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    p.cut();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");

    p.delayMs = 0;
    p.restore();
    const ok = await until(
      async () => (await rest(server, "GET", path, { auth: user.auth })).status === 200,
      10_000,
    );
    expect(ok).toBe(true);
    const list = await rest(server, "GET", path, { auth: user.auth });
    // The insert either happened whole or not at all.
    for (const task of list.body.data) {
      expect(task).toMatchObject({ title: "in flight", version: 1, completed: false });
    }
  });

  it("a full pool answers 503 quickly instead of hanging", async () => {
    const p = await ownProxy();
    const server = await startServer({
      db: { url: p.via(inject("databaseUrl")), poolMax: 1, connectionTimeoutMs: 200 },
    });
    cleanups.push(() => server.close());
    const user = newUser();
    const path = `/api/${user.id}/tasks`;
    expect((await rest(server, "GET", path, { auth: user.auth })).status).toBe(200);
    p.delayMs = 400;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => rest(server, "GET", path, { auth: user.auth })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a request past its deadline gets 503 in its surface's shape; the server carries on", async () => {
    const p = await ownProxy();
    const server = await startServer({
      db: { url: p.via(inject("databaseUrl")) },
      app: { requestTimeoutMs: 300 },
    });
    cleanups.push(() => server.close());
    const user = newUser();
    const path = `/api/${user.id}/tasks`;
    expect((await rest(server, "GET", path, { auth: user.auth })).status).toBe(200);

    p.delayMs = 250; // each round trip: the request needs several
    const slow = await rest(server, "GET", path, { auth: user.auth });
    expect(slow.status).toBe(503);
    expect(slow.headers.get("retry-after")).toBe("5");
    expect(slow.body).toMatchObject({ data: null, error: { code: "SERVICE_UNAVAILABLE" } });
    const slowTrpc = await fetch(`${server.baseUrl}/trpc/task.list`, {
      headers: { authorization: user.auth },
    });
    expect(slowTrpc.status).toBe(503);
    expect(((await slowTrpc.json()) as { error: { data: { code: string } } }).error.data.code).toBe(
      "SERVICE_UNAVAILABLE",
    );

    p.delayMs = 0;
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the late results arrive, unsent
    expect((await rest(server, "GET", path, { auth: user.auth })).status).toBe(200);
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM: readiness 503, the in-flight request completes, exit 0", async () => {
    const p = await ownProxy();
    const server = await spawnServer({
      DATABASE_URL: p.via(inject("databaseUrl")),
      BETTER_AUTH_SECRET: TEST_SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      SHUTDOWN_DRAIN_MS: "2000",
    });
    cleanups.push(server.kill);
    const user = newUser();
    const path = `/api/${user.id}/tasks`;
    expect((await rest(server, "GET", path, { auth: user.auth })).status).toBe(200);

    p.delayMs = 400;
    const inFlight = rest(server, "POST", path, { auth: user.auth, body: { title: "last one" } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const signalled = Date.now();
    server.proc.kill("SIGTERM");
    // The signal reaches the process asynchronously: ask until it answers as stopping.
    const stopping = await until(async () => {
      const ready = await rest(server, "GET", "/health/ready");
      return ready.status === 503 && ready.body.status === "shutting-down";
    }, 1_500);
    expect(stopping).toBe(true);

    const done = await inFlight;
    expect(done.status).toBe(201);
    expect(await server.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(server.output()).toContain('"msg":"Stopped"');
  });
});

describe("bugs", () => {
  it("an unexpected error is a generic 500, logged with its request id, with nothing internal", async () => {
    // A real failure: the server pointed at a database nobody migrated.
    const empty = await createTestDatabase({ prefix: "todo_test_unmigrated", migrate: false });
    cleanups.push(() => empty.drop());
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const server = await startServer({
      db: { url: empty.url },
      app: { logger: pino({ level: "info" }, sink) },
    });
    cleanups.push(() => server.close());
    const user = newUser();
    const res = await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      data: null,
      error: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error" },
      meta: { requestId: expect.any(String) },
    });
    const trpc = await fetch(`${server.baseUrl}/trpc/task.list`, {
      headers: { authorization: user.auth },
    });
    const trpcText = await trpc.text();
    expect(trpc.status).toBe(500);
    for (const text of [JSON.stringify(res.body), trpcText]) {
      expect(text).not.toMatch(/users|tasks|relation|P20\d\d|prisma|stack|\.ts:/i);
    }
    const logged = lines.find(
      (l) => l.includes(res.body.meta.requestId) && l.includes("unhandled"),
    );
    expect(logged).toBeDefined();
    // Readiness runs a task query too: a database that cannot answer one is not ready.
    const ready = await rest(server, "GET", "/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "database-unavailable" });
  });
});
