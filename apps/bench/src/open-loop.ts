// The open-loop load generator, run as its own process (on its own core where taskset allows):
// a scenario's requests (S1 unless told) arrive as a Poisson process at a fixed rate, whatever the server's pace, over
// `connections` keep-alive connections opened before the clock starts and used in turn. Latency is
// measured from each request's *scheduled* send time, so a server (or a generator) that falls
// behind shows it in the figures instead of hiding it. argv[2] is a JSON OpenLoopConfig; the
// result is printed as JSON.
import { cpuUsage } from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";
import { drawRequests, type Scenario, type Target } from "./requests.ts";
import { readTokens } from "./tokens.ts";

export type OpenLoopConfig = {
  url: string;
  target: Target;
  /** S1 (lists) when omitted; S4 mixes lists, creates and toggles. */
  scenario?: Scenario;
  /** Needed for the scenarios that toggle tasks. */
  tasksPerUser?: number;
  /** Offered load, requests per second. */
  rate: number;
  connections: number;
  durationSeconds: number;
  users: number;
  /** Pre-signed tokens (tokens.ts). */
  tokensFile: string;
};

export type OpenLoopResult = {
  rate: number;
  /** Requests completed per second of the run. */
  achievedRate: number;
  requests: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** How late the generator sent requests after their scheduled times (its own lag). */
  sendLagP99Ms: number;
  errors: number;
  serverErrors: number;
  non2xx: number;
  /** Connections open once all were opened, and still open when the run ended. */
  connectionsOpened: number;
  connectionsAtEnd: number;
  /** Connections lost (closed by either side) during the run. */
  disconnects: number;
  generatorCpuMs: number;
};

const config = JSON.parse(process.argv[2] ?? "{}") as OpenLoopConfig;

// Requests drawn in advance, so sending one costs only the send.
const tokenOf = readTokens(config.tokensFile);
const draws = drawRequests(
  {
    target: config.target,
    scenario: config.scenario ?? "S1",
    users: config.users,
    tasksPerUser: config.tasksPerUser ?? 1,
    tokenOf,
  },
  20_000,
).map((d) => ({
  method: d.method,
  path: d.path,
  body: d.body || undefined,
  headers: {
    authorization: `Bearer ${d.token}`,
    ...(d.body ? { "content-type": "application/json" } : {}),
  },
}));

const origin = new URL(config.url).origin;
const clients = Array.from(
  { length: config.connections },
  // One connection each, kept alive between requests; a request waits for its connection when
  // the one before it on that connection has not been answered yet.
  () =>
    new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000, connect: { timeout: 10_000 } }),
);

let open = 0;
let disconnects = 0;
for (const client of clients) {
  client.on("connect", () => open++);
  client.on("disconnect", () => {
    open--;
    disconnects++;
  });
}

// Open every connection before the clock starts.
await Promise.all(
  clients.map(async (client) => {
    const res = await client.request({ path: "/", method: "GET" });
    await res.body.dump();
  }),
);
const connectionsOpened = open;
disconnects = 0;

const latencies: number[] = [];
const lags: number[] = [];
let errors = 0;
let serverErrors = 0;
let non2xx = 0;
const inFlight = new Set<Promise<void>>();

// dispatch with a handler: no response object or body stream per request, so the generator's
// own cost per request stays small next to the server's.
function send(i: number, scheduled: number): Promise<void> {
  const draw = draws[i % draws.length] as (typeof draws)[number];
  const client = clients[i % clients.length] as Client;
  lags.push(performance.now() - scheduled);
  return new Promise((resolve) => {
    let status = 0;
    client.dispatch(
      { path: draw.path, method: draw.method, headers: draw.headers, body: draw.body },
      // Client.dispatch takes the handler shape undici's own Client asserts (onConnect, onHeaders,
      // onData, onComplete, onError).
      {
        onConnect() {},
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData() {
          return true;
        },
        onComplete() {
          if (status >= 500) serverErrors++;
          if (status < 200 || status >= 300) non2xx++;
          latencies.push(performance.now() - scheduled);
          resolve();
        },
        onError() {
          errors++;
          resolve();
        },
      },
    );
  });
}

// Exponential gaps between arrivals: a Poisson process of the given rate.
const gap = () => (-Math.log(1 - Math.random()) * 1000) / config.rate;
let i = 0;
async function arrivals(seconds: number) {
  const end = performance.now() + seconds * 1000;
  let next = performance.now();
  while (next < end) {
    const now = performance.now();
    while (next <= now && next < end) {
      const p = send(i++, next);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      next += gap();
    }
    await sleep(Math.max(0, Math.min(next, end) - performance.now()));
  }
}

// A warm-up at the same rate, not recorded: the generator's own code is compiled before timing.
await arrivals(Math.min(1, config.durationSeconds / 5));
await Promise.all(inFlight);
latencies.length = 0;
lags.length = 0;
errors = serverErrors = non2xx = i = 0;

const cpuBefore = cpuUsage();
const start = performance.now();
process.stderr.write("started\n");
await arrivals(config.durationSeconds);
// Answers still owed get 15 s more; an unanswered one then counts as an error.
await Promise.race([Promise.all(inFlight), sleep(15_000, undefined, { ref: false })]);
const elapsedSeconds = (performance.now() - start) / 1000;
const cpu = cpuUsage(cpuBefore);
process.stderr.write("finished\n");
const connectionsAtEnd = open;
const lostDuringRun = disconnects;
await Promise.all(clients.map((c) => c.close()));

const sorted = latencies.sort((a, b) => a - b);
const at = (q: number, xs: number[]) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const round = (n: number) => Math.round(n * 10) / 10;
const result: OpenLoopResult = {
  rate: config.rate,
  achievedRate: round(latencies.length / elapsedSeconds),
  requests: i,
  latencyMs: {
    p50: round(at(0.5, sorted)),
    p95: round(at(0.95, sorted)),
    p99: round(at(0.99, sorted)),
    max: round(sorted.at(-1) ?? 0),
  },
  sendLagP99Ms: round(
    at(
      0.99,
      lags.sort((a, b) => a - b),
    ),
  ),
  errors: errors + inFlight.size,
  serverErrors,
  non2xx,
  connectionsOpened,
  connectionsAtEnd,
  disconnects: lostDuringRun,
  generatorCpuMs: Math.round((cpu.user + cpu.system) / 1000),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
