// Live updates across instances: tRPC subscriptions and REST event streams, woken by PostgreSQL
// LISTEN/NOTIFY, reading the change feed, so nothing is lost across a cut stream or a cut
// listening connection, and no user ever hears of another's tasks.

import { connect } from "node:net";
import { signHs256Token } from "@todo/api/auth";
import type { AppRouter } from "@todo/api/router";
import { createTRPCClient, httpLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { EventSource } from "eventsource";
import pg from "pg";
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
import { type ServerProcess, spawnServer } from "./support/server-process.ts";
import { openRestStream, type RestStream } from "./support/sse.ts";
import { startTcpProxy, targetOf } from "./support/tcp-proxy.ts";
import { until } from "./support/until.ts";

let a: TestServer;
let b: ServerProcess;
const cleanups: Array<() => unknown> = [];
beforeAll(async () => {
  a = await startServer();
  // Another instance, in a process of its own, on the same database.
  b = await spawnServer({
    DATABASE_URL: inject("databaseUrl"),
    BETTER_AUTH_SECRET: TEST_SECRET,
    RATE_LIMIT_PER_USER_PER_MINUTE: "0",
  });
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  b?.kill();
  await a?.close();
});

const eventsPath = (user: TestUser) => `/api/${user.id}/tasks/events`;

async function stream(
  server: { baseUrl: string },
  user: TestUser,
  headers: Record<string, string> = {},
  path = eventsPath(user),
): Promise<RestStream> {
  const opened = await openRestStream(`${server.baseUrl}${path}`, {
    authorization: user.auth,
    ...headers,
  });
  cleanups.push(() => opened.close());
  return opened;
}

const create = (server: { baseUrl: string }, user: TestUser, title: string) =>
  rest(server, "POST", `/api/${user.id}/tasks`, { auth: user.auth, body: { title } });

/** A tRPC subscription's changes as they come, and whether it has started. */
function subscribe(server: { baseUrl: string }, user: TestUser, input?: { lastEventId?: string }) {
  const seen: Array<{ id: string; data: { id: string; deleted: boolean; task: unknown } }> = [];
  const errors: unknown[] = [];
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => {
    started = resolve;
  });
  const subscription = trpcClient(server, user.auth).task.onChange.subscribe(input, {
    onStarted: () => started(),
    onData: (event) => seen.push(event as (typeof seen)[number]),
    onError: (error) => errors.push(error),
  });
  cleanups.push(() => subscription.unsubscribe());
  const waitFor = async (count: number, timeoutMs = 5_000) => {
    const until = Date.now() + timeoutMs;
    while (seen.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    if (seen.length < count) throw new Error(`only ${seen.length} of ${count} tRPC events`);
    return seen;
  };
  return { seen, errors, started: startedPromise, waitFor, stop: () => subscription.unsubscribe() };
}

describe("live updates", () => {
  it("shows a REST write made on another instance within a second, over both surfaces", async () => {
    const user = newUser();
    const sse = await stream(a, user);
    expect(sse.status).toBe(200);
    expect(sse.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const trpc = subscribe(a, user);
    await trpc.started;

    const started = Date.now();
    const created = await create(b, user, "from the other instance");
    expect(created.status).toBe(201);
    const [event] = await sse.waitFor(1);
    const restLatency = Date.now() - started;
    const [viaTrpc] = await trpc.waitFor(1);
    const trpcLatency = Date.now() - started;
    expect(restLatency).toBeLessThan(1_000);
    expect(trpcLatency).toBeLessThan(1_000);
    expect(JSON.parse(event?.data ?? "")).toEqual({
      kind: "task",
      id: created.body.data.id,
      deleted: false,
      task: created.body.data,
    });
    expect(viaTrpc?.data).toEqual({
      kind: "task",
      id: created.body.data.id,
      deleted: false,
      task: created.body.data,
    });
    // The event id is a feed cursor: the feed from it has nothing more.
    expect(viaTrpc?.id).toBe(event?.id);
    const after = await rest(a, "GET", `/api/${user.id}/tasks/changes?since=${event?.id}`, {
      auth: user.auth,
    });
    expect(after.body.data).toEqual([]);
    expect(sse.retry).toBeGreaterThan(0);
  });

  it("resumes from the last event id: 20 changes made meanwhile arrive in order, none twice", async () => {
    const user = newUser();
    const first = await stream(a, user);
    await create(b, user, "before the cut");
    const [seen] = await first.waitFor(1);
    first.close();
    const trpcFirst = subscribe(a, user);
    await trpcFirst.started;
    await create(b, user, "seen by tRPC");
    const [trpcSeen] = await trpcFirst.waitFor(1);
    trpcFirst.stop();

    const titles = Array.from({ length: 20 }, (_, i) => `while away ${i}`);
    for (const title of titles) await create(b, user, title);

    const resumed = await stream(a, user, { "last-event-id": seen?.id as string });
    const events = await resumed.waitFor(21);
    const tasks = events.map((e) => JSON.parse(e.data).task.title);
    expect(tasks).toEqual(["seen by tRPC", ...titles]);
    await new Promise((r) => setTimeout(r, 200));
    expect(resumed.events.filter((e) => e.event === "change")).toHaveLength(21);

    const trpcResumed = subscribe(a, user, { lastEventId: trpcSeen?.id });
    const again = await trpcResumed.waitFor(20);
    expect(again.map((e) => (e.data.task as { title: string }).title)).toEqual(titles);
    await new Promise((r) => setTimeout(r, 200));
    expect(trpcResumed.seen).toHaveLength(20);
  });

  it("names where a stream from now starts, so a reconnect before any change loses none", async () => {
    const user = newUser();
    await create(b, user, "before the stream");
    const first = await stream(a, user);
    const [ready] = await first.waitFor(1, { event: "ready" });
    const start = ready?.id as string;
    expect(JSON.parse(ready?.data ?? "")).toEqual({ cursor: start });
    first.close();
    await create(b, user, "while away 1");
    await create(b, user, "while away 2");
    const resumed = await stream(a, user, { "last-event-id": start });
    const events = await resumed.waitFor(2);
    expect(events.map((e) => JSON.parse(e.data).task.title)).toEqual([
      "while away 1",
      "while away 2",
    ]);
  });

  it("catches up after its listening connection is cut by the network", async () => {
    const proxy = await startTcpProxy(targetOf(inject("databaseUrl")));
    const cut = await startServer({ db: { url: proxy.via(inject("databaseUrl")) } });
    cleanups.push(
      () => cut.close(),
      () => proxy.close(),
    );
    const user = newUser();
    const sse = await stream(cut, user);
    await create(b, user, "before");
    await sse.waitFor(1);

    proxy.cut();
    const titles = Array.from({ length: 20 }, (_, i) => `during the cut ${i}`);
    for (const title of titles) await create(b, user, title);
    proxy.restore();
    // The instance opens its listening connection again and every stream reads from its cursor.
    const events = await sse.waitFor(21, { timeoutMs: 15_000 });
    expect(events.slice(1).map((e) => JSON.parse(e.data).task.title)).toEqual(titles);
    expect(new Set(events.map((e) => e.id)).size).toBe(21);
  });

  it("never carries another user's change, and refuses what it must", async () => {
    const alice = newUser();
    const bob = newUser();
    const aliceStream = await stream(a, alice);
    const bobTrpc = subscribe(a, bob);
    await bobTrpc.started;
    await create(b, alice, "alice's");
    await aliceStream.waitFor(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(bobTrpc.seen).toEqual([]);

    const noToken = await openRestStream(`${a.baseUrl}${eventsPath(alice)}`, {});
    expect(noToken.status).toBe(401);
    const wrongUser = await stream(a, bob, {}, eventsPath(alice));
    expect(wrongUser.status).toBe(403);
    const inUrl = await stream(a, alice, {}, `${eventsPath(alice)}?access_token=${alice.token}`);
    expect(inUrl.status).toBe(400);
    expect(JSON.stringify(inUrl.body)).toMatch(/never accepted in a URL/);
    const badCursor = await stream(a, alice, { "last-event-id": "nonsense" });
    expect(badCursor.status).toBe(400);
  });

  it("holds at most N streams per user (429 with Retry-After), then takes one again", async () => {
    const limited = await startServer({ liveLimits: { perUser: 2 } });
    cleanups.push(() => limited.close());
    const user = newUser();
    const one = await stream(limited, user);
    await stream(limited, user);
    const third = await stream(limited, user);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    one.close();
    await new Promise((r) => setTimeout(r, 200));
    expect((await stream(limited, user)).status).toBe(200);
    expect(limited.live.open).toBe(2);
  });

  it("frees a stream's place when its client goes, however the path was spelled; HEAD opens none", async () => {
    const server = await startServer({ liveLimits: { perUser: 2 } });
    cleanups.push(() => server.close());
    const user = newUser();
    const head = await fetch(`${server.baseUrl}${eventsPath(user)}`, {
      method: "HEAD",
      headers: { authorization: user.auth },
    });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(server.live.open).toBe(0);
    for (const path of [`${eventsPath(user)}/`, `/api/${user.id}/TASKS/Events`]) {
      const sse = await stream(server, user, {}, path);
      expect(sse.status).toBe(200);
      expect(server.live.open).toBe(1);
      sse.close();
      await until(() => server.live.open === 0);
    }
  });

  it("ends a stream when its token expires, with a last event that says so", async () => {
    const id = `user_${crypto.randomUUID()}`;
    const token = signHs256Token({ secret: TEST_SECRET, userId: id, expiresInSeconds: 2 });
    const user = { id, token, auth: `Bearer ${token}` };
    const sse = await stream(a, user);
    const ended = new Promise<{ code?: string; message: string }>((resolve) => {
      trpcClient(a, user.auth).task.onChange.subscribe(undefined, {
        onError: (error) => resolve({ code: error.data?.code, message: error.message }),
      });
    });
    const [end] = await sse.waitFor(1, { event: "end", timeoutMs: 8_000 });
    expect(JSON.parse(end?.data ?? "")).toEqual({ reason: "token_expired" });
    await sse.ended;
    // tRPC: the subscription ends with UNAUTHORIZED itself (not an internal error it would retry).
    expect(await ended).toEqual({
      code: "UNAUTHORIZED",
      message: "Token expired: subscribe again with a new token",
    });
  });

  it("disconnects a client that stops reading, rather than buffering for it without bound", async () => {
    const server = await startServer();
    cleanups.push(() => server.close());
    const user = newUser();
    // A client that sends its request, takes the head, then reads nothing more.
    const { hostname, port } = new URL(server.baseUrl);
    const socket = connect({ host: hostname, port: Number(port) });
    cleanups.push(() => socket.destroy());
    socket.write(
      `GET ${eventsPath(user)} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${user.auth}\r\n` +
        "Accept: text/event-stream\r\n\r\n",
    );
    const head = await new Promise<string>((resolve) =>
      socket.once("data", (b) => resolve(`${b}`)),
    );
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    socket.pause();
    await until(() => server.live.open === 1);
    // About 10 KB per change, until the server cuts it (loopback buffers take some 4 MB first).
    const description = "x".repeat(10_000);
    for (let batch = 0; batch < 60 && server.live.open > 0; batch++) {
      const ops = Array.from({ length: 20 }, (_, i) => ({
        op: "create",
        title: `big ${batch}-${i}`,
        description,
      }));
      const answer = await rest(server, "POST", `/api/${user.id}/tasks/batch`, {
        auth: user.auth,
        body: { ops },
      });
      expect(answer.status).toBe(200);
    }
    // The stream was cut: it no longer counts, and the connection ends once the client reads.
    await until(() => server.live.open === 0);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.resume();
    await closed;
  });

  it("logs a stream its client closed as a normal end, not an error", async () => {
    const lines: Array<{ level: number; req: { path: string }; res: { status: number } }> = [];
    const logger = pino(
      { level: "info" },
      { write: (line: string) => lines.push(JSON.parse(line)) },
    );
    const server = await startServer({ app: { logger } });
    cleanups.push(() => server.close());
    const user = newUser();
    const sse = await stream(server, user);
    expect(sse.status).toBe(200);
    sse.close();
    await until(() => lines.some((l) => l.req?.path === eventsPath(user)));
    const line = lines.find((l) => l.req?.path === eventsPath(user));
    expect(line).toMatchObject({ level: 30, res: { status: 200 } });
    expect(line).not.toHaveProperty("err");
  });

  it("ends every stream on shutdown with a hint to reconnect", async () => {
    const closing = await startServer();
    const user = newUser();
    const sse = await stream(closing, user);
    expect(closing.live.open).toBe(1);
    closing.live.shutdown();
    const [end] = await sse.waitFor(1, { event: "end" });
    expect(JSON.parse(end?.data ?? "")).toEqual({ reason: "shutdown" });
    await sse.ended;
    // Nor does it hand out tickets for streams it would refuse: 503, try again elsewhere.
    const ticket = await rest(closing, "POST", `${eventsPath(user)}/ticket`, { auth: user.auth });
    expect(ticket.status).toBe(503);
    expect(Number(ticket.headers.get("retry-after"))).toBeGreaterThan(0);
    await closing.close();
  });
});

describe("stream tickets (a browser's EventSource sends no header)", () => {
  async function ticketFor(user: TestUser) {
    const res = await rest(a, "POST", `${eventsPath(user)}/ticket`, { auth: user.auth });
    expect(res.status).toBe(200);
    return res.body.data as { ticket: string; expiresAt: string };
  }

  it("issues no ticket for a token that has expired, even inside the clock-skew leeway", async () => {
    const id = `user_${crypto.randomUUID()}`;
    // Expired 2 s ago: still accepted by the verifier (5 s of skew), but a ticket would be born dead.
    const token = signHs256Token({ secret: TEST_SECRET, userId: id, expiresInSeconds: -2 });
    const res = await rest(a, "POST", `/api/${id}/tasks/events/ticket`, {
      auth: `Bearer ${token}`,
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });

  it("opens a REST stream once, for its own user, within its minute", async () => {
    const alice = newUser();
    const { ticket, expiresAt } = await ticketFor(alice);
    const ttl = Date.parse(expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const url = (t: string, user = alice) => `${a.baseUrl}${eventsPath(user)}?ticket=${t}`;

    const opened = await openRestStream(url(ticket), {});
    cleanups.push(() => opened.close());
    expect(opened.status).toBe(200);
    await create(b, alice, "seen through a ticket");
    expect(JSON.parse((await opened.waitFor(1))[0]?.data ?? "").task.title).toBe(
      "seen through a ticket",
    );

    // Used once: never again, not even by its owner.
    const reused = await openRestStream(url(ticket), {});
    expect(reused.status).toBe(401);
    // Bound to its user: on another user's path, 403.
    const bob = newUser();
    const elsewhere = await openRestStream(url((await ticketFor(alice)).ticket, bob), {});
    expect(elsewhere.status).toBe(403);
    // With a header too: ambiguous.
    const both = await openRestStream(url((await ticketFor(alice)).ticket), {
      authorization: alice.auth,
    });
    expect(both.status).toBe(400);
    // Expired.
    const stale = await ticketFor(alice);
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    await admin.query("UPDATE stream_tickets SET expires_at = now() - interval '1 second'");
    await admin.end();
    expect((await openRestStream(url(stale.ticket), {})).status).toBe(401);
    // Made up.
    expect((await openRestStream(url("x".repeat(43)), {})).status).toBe(401);
    // A ticket is no credential anywhere else.
    const listed = await fetch(
      `${a.baseUrl}/api/${alice.id}/tasks?ticket=${(await ticketFor(alice)).ticket}`,
    );
    expect(listed.status).toBe(401);
  });

  it("opens a tRPC subscription through connectionParams, and refuses a token there", async () => {
    const user = newUser();
    const { ticket } = await ticketFor(user);
    const seen: unknown[] = [];
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const browserLike = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({
            url: `${a.baseUrl}/trpc`,
            EventSource,
            connectionParams: { ticket },
          }),
          false: httpLink({ url: `${a.baseUrl}/trpc` }),
        }),
      ],
    });
    const sub = browserLike.task.onChange.subscribe(undefined, {
      onStarted: () => started(),
      onData: (event) => seen.push(event),
    });
    cleanups.push(() => sub.unsubscribe());
    await ready;
    await create(b, user, "through connectionParams");
    const until = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toHaveLength(1);

    const withToken = await fetch(
      `${a.baseUrl}/trpc/task.onChange?connectionParams=${encodeURIComponent(JSON.stringify({ token: user.token }))}&input=%7B%7D`,
      { headers: { accept: "text/event-stream" } },
    );
    expect(await withToken.text()).toMatch(/never accepted in a URL/);
  });
});

describe("a live stream on a real server process", () => {
  it("outlives the request deadline with heartbeats, shows in /metrics, and ends on SIGTERM", async () => {
    const server = await spawnServer({
      DATABASE_URL: inject("databaseUrl"),
      BETTER_AUTH_SECRET: TEST_SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      SHUTDOWN_DRAIN_MS: "0",
    });
    cleanups.push(() => server.kill());
    const user = newUser();
    const sse = await stream(server, user);
    expect(sse.status).toBe(200);
    // tRPC's stream too, read raw: its pings are events of their own.
    const trpcRaw = await openRestStream(
      `${server.baseUrl}/trpc/task.onChange?input=${encodeURIComponent("{}")}`,
      { authorization: user.auth },
    );
    cleanups.push(() => trpcRaw.close());
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^live_streams_open 2$/m);

    // Past the 15 s request deadline (the default), still open, with heartbeats meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    expect(sse.comments).toContain(": ping");
    expect(trpcRaw.events.some((e) => e.event === "ping")).toBe(true);
    await create(b, user, "after the deadline");
    expect(JSON.parse((await sse.waitFor(1))[0]?.data ?? "").task.title).toBe("after the deadline");
    const fanOut = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(fanOut).toMatch(/^live_fanout_seconds_count [1-9]/m);

    // A tRPC subscriber too: told to reconnect, it must not hold the stopping server open.
    const reconnecting: string[] = [];
    const trpc = trpcClient(server, user.auth).task.onChange.subscribe(undefined, {
      onConnectionStateChange: (state) => {
        if (state.state === "connecting" && state.error) {
          reconnecting.push(String(state.error.data?.code));
        }
      },
    });
    cleanups.push(() => trpc.unsubscribe());
    await new Promise((resolve) => setTimeout(resolve, 300));

    const stopping = Date.now();
    server.proc.kill("SIGTERM");
    const [end] = await sse.waitFor(1, { event: "end" });
    expect(JSON.parse(end?.data ?? "")).toEqual({ reason: "shutdown" });
    const code = await server.exited;
    if (code !== 0) process.stderr.write(`${server.output().slice(-3000)}\n`);
    expect(code).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(5_000);
    trpc.unsubscribe();
    expect(reconnecting[0]).toBe("SERVICE_UNAVAILABLE");
  }, 40_000);
});
