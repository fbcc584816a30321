// Per-user and per-IP rate limits: in one process, shared through Redis across two processes, and
// what happens when Redis is down.
import net from "node:net";
import { pino } from "pino";
import { afterAll, describe, expect, inject, it } from "vitest";
import { rateLimiting } from "../src/http/rate-limit.ts";
import { newUser, rest, startServer, TEST_SECRET, type TestServer } from "./harness.ts";
import { type ServerProcess, spawnServer } from "./support/server-process.ts";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function limitedServer(options: { redisUrl?: string; perUser: number; perIp: number }) {
  const limits = await rateLimiting({
    perUserPerMinute: options.perUser,
    perAnonymousIpPerMinute: options.perIp,
    redisUrl: options.redisUrl,
    keyPrefix: `todo-test-${crypto.randomUUID()}`,
    logger: pino({ level: "silent" }),
  });
  const server = await startServer({ app: { rateLimit: limits.middleware } });
  cleanups.push(
    () => server.close(),
    () => limits.close(),
  );
  return server;
}

async function statuses(
  server: TestServer | ServerProcess,
  auth: string | undefined,
  path: string,
  n: number,
) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await rest(server, "GET", path, { auth })).status);
  return out;
}

describe("rate limits", () => {
  it("limits each user separately, with 429, Retry-After and RateLimit headers", async () => {
    const server = await limitedServer({ perUser: 5, perIp: 100 });
    const alice = newUser();
    const bob = newUser();
    const first = await rest(server, "GET", `/api/${alice.id}/tasks`, { auth: alice.auth });
    expect(first.headers.get("ratelimit-limit")).toBe("5");
    expect(first.headers.get("ratelimit-remaining")).toBe("4");
    expect(await statuses(server, alice.auth, `/api/${alice.id}/tasks`, 4)).toEqual([
      200, 200, 200, 200,
    ]);

    const limited = await rest(server, "GET", `/api/${alice.id}/tasks`, { auth: alice.auth });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("TOO_MANY_REQUESTS");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    // tRPC gets its own error shape with the same code.
    const trpc = await fetch(`${server.baseUrl}/trpc/task.stats`, {
      headers: { authorization: alice.auth },
    });
    expect(trpc.status).toBe(429);
    const body = (await trpc.json()) as { error: { data: { code: string } } };
    expect(body.error.data.code).toBe("TOO_MANY_REQUESTS");

    // Bob has his own budget.
    expect((await rest(server, "GET", `/api/${bob.id}/tasks`, { auth: bob.auth })).status).toBe(
      200,
    );
  });

  it("limits calls without a valid token per IP address", async () => {
    const server = await limitedServer({ perUser: 100, perIp: 3 });
    const bad = "Bearer not.a.token";
    expect(await statuses(server, bad, "/api/someone/tasks", 4)).toEqual([401, 401, 401, 429]);
    const user = newUser();
    expect((await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status).toBe(
      200,
    );
  });

  it("holds one limit across two server processes through Redis", async () => {
    const env = {
      DATABASE_URL: inject("databaseUrl"),
      BETTER_AUTH_SECRET: TEST_SECRET,
      REDIS_URL,
      REDIS_KEY_PREFIX: `todo-test-${crypto.randomUUID()}`,
      RATE_LIMIT_PER_USER_PER_MINUTE: "10",
    };
    const a = await spawnServer(env);
    cleanups.push(a.kill);
    const b = await spawnServer(env);
    cleanups.push(b.kill);
    const user = newUser();
    const path = `/api/${user.id}/tasks`;
    const results: number[] = [];
    for (let i = 0; i < 10; i++) {
      results.push((await rest(i % 2 ? a : b, "GET", path, { auth: user.auth })).status);
    }
    expect(results.every((s) => s === 200)).toBe(true);
    // The 11th request is refused by whichever process gets it: the count is shared.
    expect((await rest(a, "GET", path, { auth: user.auth })).status).toBe(429);
    expect((await rest(b, "GET", path, { auth: user.auth })).status).toBe(429);
  });

  it("keeps serving, limited per process, when Redis is down", async () => {
    // A port where nothing listens: Redis "down".
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const server = await limitedServer({
      redisUrl: `redis://127.0.0.1:${port}`,
      perUser: 3,
      perIp: 100,
    });
    const user = newUser();
    expect(await statuses(server, user.auth, `/api/${user.id}/tasks`, 4)).toEqual([
      200, 200, 200, 429,
    ]);
  });
});
