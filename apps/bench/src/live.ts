// Live updates under load: N open REST event streams on one server instance (main.ts, pinned to
// core 0), writes at a steady rate from this process (core 1), and for every event the fan-out
// latency from the writing transaction to the event's arrival (the task's updatedAt is stamped
// with the transaction's start, on the same clock), and the server's memory per open stream.
// Usage: pnpm --filter @todo/bench live [--streams 1000] [--users 250] [--rate 100]
//          [--seconds 20] [--surface rest|trpc] [--json] [--floor] [--heap-snapshots DIR]
// --surface: REST event streams (the default) or tRPC subscriptions (task.onChange over SSE).
// --floor: the same streams held by a bare node:http server (live-floor.ts), or with --surface
//   trpc by a bare tRPC subscription on Express (live-floor-trpc.ts): memory only.
// --heap-snapshots: the server writes a heap snapshot before and after the streams open (DIR).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { signHs256Token } from "@todo/api/auth";
import { createTestDatabase } from "@todo/db/testing";
import { Agent } from "undici";
import { listeningUrl } from "./listening.ts";
import { onCore } from "./processes.ts";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "1000" },
    users: { type: "string", default: "250" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "20" },
    json: { type: "boolean", default: false },
    floor: { type: "boolean", default: false },
    "heap-snapshots": { type: "string" },
    surface: { type: "string", default: "rest" },
  },
});
const STREAMS = Number(values.streams);
const USERS = Number(values.users);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const log = (message: string) => process.stderr.write(`${message}\n`);
const serverMain = join(import.meta.dirname, "../../server/src/main.ts");

function startServer(databaseUrl: string): { proc: ChildProcess; url: Promise<string> } {
  const pin = onCore(0);
  const { DATABASE_URL: _d, DIRECT_URL: _u, ...base } = process.env;
  const floor = values.surface === "trpc" ? "live-floor-trpc.ts" : "live-floor.ts";
  const entry = values.floor ? join(import.meta.dirname, floor) : serverMain;
  const gcHook = join(import.meta.dirname, "gc-on-signal.ts");
  const node = [process.execPath, "--expose-gc", "--import", "tsx", "--import", gcHook];
  const [cmd, ...args] = [...pin, ...node, entry];
  const proc = spawn(cmd as string, args, {
    env: {
      ...base,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      LIVE_STREAMS_PER_USER: String(Math.ceil(STREAMS / USERS) + 1),
      LIVE_STREAMS_PER_INSTANCE: String(STREAMS + 10),
      SHUTDOWN_DRAIN_MS: "0",
      ...(values["heap-snapshots"] ? { BENCH_HEAP_SNAPSHOTS: values["heap-snapshots"] } : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { proc, url: listeningUrl(proc, "server") };
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

/** The server's memory, MB: RSS as found, then RSS and heap in use after a collection. */
type Memory = { rssFound: number; rss: number; heap: number };

/**
 * Reads the server's memory: its RSS as found, then a collection as under memory pressure
 * (gc-on-signal.ts: garbage gone, the young generation shrunk back) and its RSS and heap after
 * it. With --heap-snapshots, read before the snapshot that follows the collection.
 */
async function memory(url: string, pid: number): Promise<Memory> {
  const rssFound = rssMb(pid);
  process.kill(pid, "SIGUSR2");
  await sleep(1_000);
  const rss = rssMb(pid);
  if (values["heap-snapshots"]) await sleep(20_000);
  return { rssFound, rss, heap: await heapMb(url) };
}

/** Memory per open stream, KB: settled RSS, RSS as found, heap. */
const perStream = (before: Memory, after: Memory) => ({
  kbPerStream: ((after.rss - before.rss) * 1024) / STREAMS,
  kbPerStreamAsFound: ((after.rssFound - before.rssFound) * 1024) / STREAMS,
  heapKbPerStream: ((after.heap - before.heap) * 1024) / STREAMS,
});

const describeMemory = (m: ReturnType<typeof perStream>) =>
  `${m.kbPerStream.toFixed(1)} KB per open stream (RSS after a collection; ` +
  `${m.kbPerStreamAsFound.toFixed(1)} KB as found), of which ${m.heapKbPerStream.toFixed(1)} KB of JavaScript heap`;

/** The server's JavaScript heap in use (its /metrics), MB. */
async function heapMb(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 2 ** 20;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

const users = Array.from({ length: USERS }, (_, i) => {
  const id = `bench-live-${i}`;
  return {
    id,
    auth: `Bearer ${signHs256Token({ secret: SECRET, userId: id, expiresInSeconds: 3600 })}`,
  };
});

// Enough sockets for every stream and the writes beside them.
const dispatcher = new Agent({ connections: STREAMS + 64, pipelining: 1 });
const latencies: number[] = [];
let events = 0;
let opened = 0;

/** One stream: counts events and records each one's fan-out latency. */
async function openStream(url: string, user: (typeof users)[number], signal: AbortSignal) {
  const path =
    values.surface === "trpc"
      ? `/trpc/task.onChange?input=${encodeURIComponent("{}")}`
      : `/api/${user.id}/tasks/events`;
  const response = await fetch(`${url}${path}`, {
    headers: { authorization: user.auth, accept: "text/event-stream" },
    signal,
    // @ts-expect-error undici's dispatcher option, taken by Node's fetch
    dispatcher,
  });
  if (response.status !== 200) throw new Error(`stream answered ${response.status}`);
  opened++;
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      const now = Date.now();
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        // A change (REST: `event: change`; tRPC: a tracked message), not ready, ping or end.
        if (!data || !/^id: /m.test(block) || /^event: (?!change$)/m.test(block)) continue;
        const change = JSON.parse(data) as { task: { updatedAt: string } | null };
        if (change.task) latencies.push(now - Date.parse(change.task.updatedAt));
        events++;
      }
    }
  } catch {
    // Aborted at the end.
  }
}

/** Writes at a steady rate and reports fan-out latency and memory per stream. */
async function measureFanOut(url: string, pid: number, before: Memory, after: Memory) {
  // Writes at a steady rate, each to a user chosen in turn: every write reaches that user's streams.
  let writes = 0;
  let writeErrors = 0;
  const started = Date.now();
  const inFlight: Promise<void>[] = [];
  while (Date.now() - started < SECONDS * 1_000) {
    const due = started + (writes * 1_000) / RATE;
    if (due > Date.now()) await sleep(due - Date.now());
    const user = users[writes % USERS] as (typeof users)[number];
    writes++;
    inFlight.push(
      fetch(`${url}/api/${user.id}/tasks`, {
        method: "POST",
        headers: { authorization: user.auth, "content-type": "application/json" },
        body: JSON.stringify({ title: `live ${writes}` }),
        // @ts-expect-error undici's dispatcher option
        dispatcher,
      }).then(
        (res) => {
          if (res.status !== 201) writeErrors++;
          return res.arrayBuffer().then(() => undefined);
        },
        () => {
          writeErrors++;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const expected = writes * (STREAMS / USERS);
  const until = Date.now() + 10_000;
  while (events < expected && Date.now() < until) await sleep(100);
  const peak = rssMb(pid);
  latencies.sort((a, b) => a - b);
  const result = {
    node: process.version,
    surface: values.surface,
    streams: STREAMS,
    users: USERS,
    writesPerSecond: RATE,
    seconds: SECONDS,
    writes,
    writeErrors,
    eventsExpected: expected,
    eventsReceived: events,
    fanOutMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
    },
    rssMb: { before, withStreams: after, peak },
    ...perStream(before, after),
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    log(
      `${writes} writes (${writeErrors} failed) at ${RATE}/s to ${USERS} users, ${STREAMS} ${values.surface} streams: ` +
        `${events}/${expected} events; fan-out p50 ${result.fanOutMs.p50} ms, p90 ${result.fanOutMs.p90} ms, ` +
        `p99 ${result.fanOutMs.p99} ms, max ${result.fanOutMs.max} ms; ` +
        `${describeMemory(result)}; RSS ${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MB, peak ${peak.toFixed(0)}`,
    );
  }
}

const database = await createTestDatabase({ prefix: "todo_bench_live", migrate: true });
const server = startServer(database.url);
const abort = new AbortController();
try {
  const url = await server.url;
  const pid = server.proc.pid as number;
  // Warm up: every user exists and the server's paths are compiled.
  for (const user of users) {
    await fetch(`${url}/api/${user.id}/tasks`, {
      method: "POST",
      headers: { authorization: user.auth, "content-type": "application/json" },
      body: JSON.stringify({ title: "warm-up" }),
    });
  }
  await sleep(1_000);
  const before = await memory(url, pid);
  log(`server before streams: RSS ${before.rss.toFixed(1)} MB, heap ${before.heap.toFixed(1)} MB`);
  const streams = Array.from({ length: STREAMS }, (_, i) =>
    openStream(url, users[i % USERS] as (typeof users)[number], abort.signal),
  );
  while (opened < STREAMS) await sleep(100);
  await sleep(2_000);
  const after = await memory(url, pid);
  log(
    `${STREAMS} streams open; server RSS ${after.rss.toFixed(1)} MB, heap ${after.heap.toFixed(1)} MB`,
  );

  if (values.floor) {
    const memory = perStream(before, after);
    log(
      `floor (${values.surface === "trpc" ? "bare tRPC on Express" : "bare node:http"}): ${describeMemory(memory)}`,
    );
    if (values.json) process.stdout.write(`${JSON.stringify({ floor: true, ...memory })}\n`);
  } else {
    await measureFanOut(url, pid, before, after);
  }
  abort.abort();
  await Promise.allSettled(streams);
} finally {
  abort.abort();
  server.proc.kill("SIGTERM");
  await new Promise((resolve) => server.proc.once("exit", resolve));
  await dispatcher.close();
  await database.drop();
}
