// The benchmark: the product (P, over REST and tRPC) against three baselines written for the
// purpose (B0: node:http + pg; B1: Express 5 + pg + HS256; B2: a bare tRPC v11 router on Express 5
// with B1's SQL and token check), same SQL intent and envelope, driven
// alternately in the same run by a load generator in its own process. Every figure that matters is
// a ratio to a baseline measured minutes apart on the same machine.
//   pnpm bench            full: 10,000 users × 100 tasks, 3 repetitions, then the open-loop sweep,
//                         memory per connection, 1,000,000 vs 10,000 rows, token verification cost
//   pnpm bench --smoke    small data, 1 s runs: checks only that everything runs
//   --compiled            the product compiled to JavaScript (apps/server/dist), as in production
//   --node 24,20          the runtimes, in turn (default; Node 24 fetched from the npm registry
//                         where this machine has another); each writes results/node<N>/
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Client } from "undici";
import { renderChart } from "./chart.ts";
import { ensureDataset } from "./dataset.ts";
import type { GeneratorConfig, GeneratorResult, Scenario, Target } from "./generator.ts";
import { listeningUrl } from "./listening.ts";
import type { OpenLoopConfig, OpenLoopResult } from "./open-loop.ts";
import { onCore, pinPostgresWhileRunning } from "./processes.ts";
import { type Extras, type OpenLoopRow, type Row, renderMarkdown, summarize } from "./report.ts";
import { SCENARIO_DESCRIPTIONS } from "./requests.ts";
import { nodeOf } from "./runtime.ts";
import { writeTokens } from "./tokens.ts";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    users: { type: "string" },
    tasks: { type: "string" },
    duration: { type: "string" },
    reps: { type: "string" },
    /**
     * Seconds of alternating S1 warm-up before anything is timed (default 180; the smoke run does one
     * short round). Its rounds are reported, not counted.
     */
    warmup: { type: "string" },
    connections: { type: "string", default: "64" },
    /** Comma-separated subset, e.g. S1,S3 (default: all). */
    scenarios: { type: "string" },
    /** Connections held open by the open-loop sweep. */
    "open-connections": { type: "string" },
    /** Skip the phases after the closed loop (sweep, memory, small dataset, verification). */
    "closed-only": { type: "boolean", default: false },
    out: { type: "string", default: join(import.meta.dirname, "../results") },
    /** The product as production runs it: compiled (apps/server/dist), not through tsx. */
    compiled: { type: "boolean", default: false },
    /** Node.js major versions to run on, in turn (default: 24, the shipped runtime, then 20). */
    node: { type: "string", default: "24,20" },
    /**
     * Keep a local PostgreSQL off the measured server's core while the run lasts (pin-postgres.ts);
     * --no-pin-postgres leaves it where the scheduler puts it.
     */
    "pin-postgres": { type: "boolean", default: true },
  },
  allowNegative: true,
});
const log = (message: string) => process.stderr.write(`${message}\n`);

// The whole run once per runtime, each in a process of that Node (its servers run on it too);
// their reports are put side by side.
if (!process.env.BENCH_RUNTIME) {
  const args = process.argv.slice(2).filter((arg, i, all) => {
    if (arg === "--node" || arg.startsWith("--node=")) return false;
    return all[i - 1] !== "--node";
  });
  const reports: string[] = [];
  for (const version of (values.node as string).split(",").map(Number)) {
    const bin = nodeOf(version, log);
    if (!bin) {
      log(`Node ${version}: not on this machine, skipped`);
      reports.push(`## Node ${version}\n\nNot run: no Node ${version} on this machine.\n`);
      continue;
    }
    const out = join(values.out as string, `node${version}`);
    log(`== Node ${version} (${bin})`);
    const child = spawn(bin, ["--import", "tsx", import.meta.filename, ...args, "--out", out], {
      env: { ...process.env, BENCH_RUNTIME: String(version) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let markdown = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      markdown += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0) process.exit(code ?? 1);
    reports.push(`## Node ${version}\n\n${markdown}`);
  }
  const combined = reports.join("\n");
  const name = values.smoke ? "smoke" : values.scenarios ? "latest-subset" : "latest";
  await mkdir(values.out as string, { recursive: true });
  await writeFile(join(values.out as string, `${name}.md`), combined);
  process.stdout.write(combined);
  process.exit(0);
}

const smoke = values.smoke ?? false;
const users = Number(values.users ?? (smoke ? 100 : 10_000));
const tasksPerUser = Number(values.tasks ?? (smoke ? 10 : 100));
const durationSeconds = Number(values.duration ?? (smoke ? 1 : 6));
const reps = Number(values.reps ?? (smoke ? 1 : 3));
const warmupSeconds = Number(values.warmup ?? (smoke ? 0 : 180));
const connections = Number(values.connections);
const openConnections = Number(values["open-connections"] ?? (smoke ? 50 : 1_000));
const SMALL = { users: 100, tasksPerUser: 100 }; // 10,000 rows, against the full 1,000,000
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const ALL_SCENARIOS = Object.keys(SCENARIO_DESCRIPTIONS) as Scenario[];
const SCENARIOS = values.scenarios
  ? ALL_SCENARIOS.filter((s) => (values.scenarios as string).split(",").includes(s))
  : ALL_SCENARIOS;

type Server = { name: "B0" | "B1" | "B2" | "P"; url: string; proc: ChildProcess };

/** A process on one core, or (core null) wherever the scheduler puts it. */
function spawnPinned(core: number | null, args: string[], env: Record<string, string>) {
  // Compiled JavaScript runs without the TypeScript loader.
  const loader = args[0]?.endsWith(".js") ? ["--enable-source-maps"] : ["--import", "tsx"];
  const [cmd, ...rest] = [
    ...(core === null ? [] : onCore(core)),
    process.execPath,
    ...loader,
    ...args,
  ];
  return spawn(cmd as string, rest, {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function startServer(
  name: Server["name"],
  entry: string,
  env: Record<string, string>,
  core: number | null = 0,
) {
  const proc = spawnPinned(core, [entry], env);
  const url = await listeningUrl(proc, name);
  return { name, url, proc };
}

/** CPU seconds used so far, and peak resident memory, of a process (Linux /proc). */
function processStats(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds, peakRssMb: hwmKb / 1024, rssKb };
}

/** Runs a script pinned to a core; `onMark` sees each line it writes to stderr as it comes. */
function runPinned<T>(core: number, args: string[], onMark?: (line: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawnPinned(core, args, {});
    let out = "";
    let err = "";
    proc.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
      for (const line of c.toString().split("\n")) if (line) onMark?.(line.trim());
    });
    proc.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(err || out)),
    );
  });
}

const generate = (config: GeneratorConfig) =>
  runPinned<GeneratorResult>(1, ["generator.ts", JSON.stringify(config)]);
/** An open-loop run, with the server's CPU over exactly the generator's timed window. */
async function openLoop(server: Server, config: OpenLoopConfig) {
  const pid = server.proc.pid as number;
  let started = { at: 0, cpu: 0 };
  let finished = { at: 0, cpu: 0 };
  const result = await runPinned<OpenLoopResult>(
    1,
    ["open-loop.ts", JSON.stringify(config)],
    (line) => {
      const mark = { at: performance.now(), cpu: processStats(pid).cpuSeconds };
      if (line === "started") started = mark;
      if (line === "finished") finished = mark;
    },
  );
  const seconds = (finished.at - started.at) / 1000;
  return { ...result, serverCpuPercent: (100 * (finished.cpu - started.cpu)) / seconds };
}

async function measure(
  server: Server,
  target: Target,
  scenario: Scenario,
  seconds: number,
  data = { users, tasksPerUser },
) {
  const pid = server.proc.pid as number;
  const before = processStats(pid);
  const result = await generate({
    url: server.url,
    target,
    scenario,
    connections,
    durationSeconds: seconds,
    ...data,
    tokensFile,
  });
  const after = processStats(pid);
  return {
    ...result,
    durationSeconds: seconds,
    serverCpuPercent: (100 * (after.cpuSeconds - before.cpuSeconds)) / seconds,
    serverPeakRssMb: after.peakRssMb,
    serverRssMb: after.rssKb / 1024,
  };
}

/**
 * Resident memory a server holds per idle keep-alive connection: RSS with `count` connections
 * open (each has made one request and then waits) minus RSS before, over `count`.
 */
async function memoryPerConnection(server: Server, count: number) {
  const pid = server.proc.pid as number;
  await sleep(1_000);
  const idleKb = processStats(pid).rssKb;
  let open = 0;
  const clients = Array.from({ length: count }, () => {
    const client = new Client(server.url, { keepAliveTimeout: 60_000, pipelining: 1 });
    client.on("connect", () => open++);
    client.on("disconnect", () => open--);
    return client;
  });
  try {
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        clients.slice(i, i + 100).map(async (client) => {
          const res = await client.request({ path: "/", method: "GET" });
          await res.body.dump();
        }),
      );
    }
    await sleep(1_000);
    const openKb = processStats(pid).rssKb;
    return {
      server: server.name,
      connections: open,
      idleRssMb: idleKb / 1024,
      openRssMb: openKb / 1024,
      kbPerConnection: (openKb - idleKb) / count,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

const dataset = await ensureDataset(users, tasksPerUser, log, { throwaway: smoke });
const pinned = pinPostgresWhileRunning(dataset.url, 1, Boolean(values["pin-postgres"]) && !smoke);
log(`PostgreSQL: ${pinned.description}`);
const tokensDir = await mkdtemp(join(tmpdir(), "todo-bench-tokens-"));
const tokensFile = join(tokensDir, "tokens.json");
writeTokens(tokensFile, SECRET, Math.max(users, SMALL.users));
const closedOnly = values["closed-only"] ?? false;
const small = closedOnly
  ? undefined
  : await ensureDataset(SMALL.users, SMALL.tasksPerUser, log, { throwaway: smoke });
const common = { DATABASE_URL: dataset.url, PORT: "0" };
let productEntry = "../../server/src/main.ts";
if (values.compiled) {
  execFileSync(process.execPath, ["--import", "tsx", "../../server/scripts/build.ts"], {
    cwd: import.meta.dirname,
    stdio: ["ignore", "ignore", "inherit"],
  });
  productEntry = "../../server/dist/main.js";
}
const productEnv = {
  NODE_ENV: "production",
  BETTER_AUTH_SECRET: SECRET,
  RATE_LIMIT_PER_USER_PER_MINUTE: "0",
  SHUTDOWN_DRAIN_MS: "0",
  LOG_LEVEL: "info",
};
const servers = {
  B0: await startServer("B0", "baseline-b0.ts", common),
  B1: await startServer("B1", "baseline-b1.ts", { ...common, BENCH_SECRET: SECRET }),
  B2: await startServer("B2", "baseline-b2.ts", { ...common, BENCH_SECRET: SECRET }),
  P: await startServer("P", productEntry, { ...common, ...productEnv }),
  ...(small
    ? {
        P10k: await startServer("P", productEntry, {
          ...productEnv,
          DATABASE_URL: small.url,
          PORT: "0",
        }),
      }
    : {}),
};
// The order alternates baselines and product, so drift in the machine hits all of them.
const plan: Array<[Server, Target]> = [
  [servers.B0, "b0"],
  [servers.P, "rest"],
  [servers.B1, "b1"],
  [servers.P, "trpc"],
  [servers.B2, "b2"],
];

try {
  // Warm-up: rounds of S1 through every server in turn until `warmupSeconds` have passed (at least
  // one round). Three minutes, because the product and B2 (the two servers that saturate their
  // core) ran 20-30% slower in their first two to three minutes of alternating load, whatever the
  // JIT had seen, and then held their speed: see PERFORMANCE.md. The rounds are kept for the report.
  log("warm-up");
  const warmup: NonNullable<Extras["warmup"]> = [];
  const warmupStart = performance.now();
  for (
    let round = 1;
    round === 1 || performance.now() - warmupStart < warmupSeconds * 1000;
    round++
  ) {
    for (const [server, target] of plan) {
      const r = await measure(server, target, "S1", smoke ? 1 : durationSeconds);
      warmup.push({ round, target, rps: r.requestsPerSecond, p99: r.latencyMs.p99 });
      log(
        `warm-up ${round} ${target.padEnd(4)}: ${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99} ms`,
      );
    }
  }
  const runs: Row[] = [];
  for (const scenario of SCENARIOS) {
    // Each scenario's own warm-up: its code paths (and query shapes) are compiled before timing.
    if (scenario !== "S1" && !smoke) {
      for (const [server, target] of plan) await measure(server, target, scenario, 4);
    }
    for (let rep = 1; rep <= reps; rep++) {
      for (const [server, target] of plan) {
        const result = await measure(server, target, scenario, durationSeconds);
        runs.push({ scenario, target, rep, ...result });
        log(
          `${scenario} ${target.padEnd(4)} rep ${rep}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.latencyMs.p99} ms, 5xx ${result.serverErrors}, errors ${result.errors}`,
        );
      }
    }
  }
  const extras: Extras = { warmup };
  if (!closedOnly) {
    // RSS of the product after each repetition of S1 over REST: it must not creep up.
    extras.rssAfterRepsMb = runs
      .filter((r) => r.scenario === "S1" && r.target === "rest")
      .map((r) => r.serverRssMb);

    // 1,000,000 rows against 10,000: the same S1 over REST, alternating.
    log(`S1 with ${users * tasksPerUser} rows vs ${SMALL.users * SMALL.tasksPerUser} rows`);
    const sizes: Array<{ rows: number; p50: number; p99: number; rps: number }> = [];
    await measure(servers.P10k as Server, "rest", "S1", smoke ? 1 : 3, SMALL);
    for (let rep = 1; rep <= reps; rep++) {
      for (const [server, data] of [
        [servers.P, { users, tasksPerUser }],
        [servers.P10k as Server, SMALL],
      ] as const) {
        const r = await measure(server, "rest", "S1", durationSeconds, data);
        sizes.push({
          rows: data.users * data.tasksPerUser,
          p50: r.latencyMs.p50,
          p99: r.latencyMs.p99,
          rps: r.requestsPerSecond,
        });
      }
    }
    extras.sizes = sizes;

    // WEB_CONCURRENCY: one process against two, neither pinned (two processes need both cores),
    // so both share the machine with the load generator and PostgreSQL.
    log("S1 REST with 1 and 2 processes (WEB_CONCURRENCY), unpinned");
    const workers: NonNullable<Extras["workers"]> = [];
    for (const count of [1, 2]) {
      const server = await startServer(
        "P",
        productEntry,
        { ...common, ...productEnv, WEB_CONCURRENCY: String(count) },
        null,
      );
      try {
        await measure(server, "rest", "S1", smoke ? 1 : 10);
        for (let rep = 1; rep <= reps; rep++) {
          const r = await measure(server, "rest", "S1", durationSeconds);
          workers.push({ processes: count, rps: r.requestsPerSecond, p99: r.latencyMs.p99 });
          log(
            `S1 rest ×${count} rep ${rep}: ${Math.round(r.requestsPerSecond)} req/s, p99 ${r.latencyMs.p99} ms`,
          );
        }
      } finally {
        server.proc.kill("SIGTERM");
        await new Promise((done) => server.proc.once("exit", done));
      }
    }
    extras.workers = workers;

    // Token verification: CPU per verification on the servers' core, against P's CPU per S1 REST
    // request of this run.
    extras.verification = await runPinned<{ cpuMicrosPerVerification: number }>(0, [
      "verify-cost.ts",
      SECRET,
    ]);

    log("memory per open connection");
    extras.memory = [
      await memoryPerConnection(servers.B0, openConnections),
      await memoryPerConnection(servers.P, openConnections),
    ];

    // Open loop: Poisson arrivals at fractions of B0's S1 saturation rate, 1,000 connections.
    const b0Saturation = summarize(runs).find((s) => s.scenario === "S1" && s.target === "b0");
    if (b0Saturation) {
      extras.b0SaturationRps = b0Saturation.requestsPerSecond;
      const sweep: OpenLoopRow[] = [];
      for (const fraction of smoke ? [0.5] : [0.1, 0.25, 0.5, 0.75]) {
        const rate = Math.max(1, Math.round(fraction * b0Saturation.requestsPerSecond));
        // B1 and B2 too: what the frameworks alone do at the same offered load.
        for (const [server, target] of [
          [servers.B0, "b0"],
          [servers.B1, "b1"],
          [servers.P, "rest"],
          [servers.B2, "b2"],
          [servers.P, "trpc"],
        ] as const) {
          const result = await openLoop(server, {
            url: server.url,
            target,
            rate,
            connections: openConnections,
            durationSeconds,
            users,
            tokensFile,
          });
          sweep.push({ fraction, durationSeconds, target, ...result });
          log(
            `open loop ${target.padEnd(4)} at ${rate}/s (${fraction} × B0): p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, errors ${result.errors}, connections ${result.connectionsOpened}`,
          );
        }
      }
      extras.sweep = sweep;
    }
  }

  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    product: values.compiled ? "compiled (dist/main.js)" : "sources through tsx",
    postgres: pinned.description,
    cores: availableParallelism(),
    users,
    tasksPerUser,
    rows: users * tasksPerUser,
    durationSeconds,
    reps,
    warmupSeconds,
    connections,
    smoke,
    generator: runs[0]?.tool ?? "none",
    openConnections,
  };
  await mkdir(values.out as string, { recursive: true });
  const name = smoke ? "smoke" : values.scenarios ? `latest-${SCENARIOS.join("-")}` : "latest";
  await writeFile(
    join(values.out as string, `${name}.json`),
    JSON.stringify({ meta, runs, ...extras }, null, 2),
  );
  if (extras.sweep) {
    await writeFile(
      join(values.out as string, `${name}-latency.svg`),
      await renderChart(extras.sweep),
    );
  }
  const markdown = renderMarkdown(meta, runs, extras);
  await writeFile(join(values.out as string, `${name}.md`), markdown);
  process.stdout.write(markdown);
} finally {
  for (const server of Object.values(servers)) server.proc.kill("SIGTERM");
  // The smoke run's datasets are its own and not worth keeping; the full one is reused.
  await rm(tokensDir, { recursive: true, force: true });
  if (smoke) {
    await dataset.drop();
    await small?.drop();
  }
}
