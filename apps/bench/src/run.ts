// The benchmark: the product (P, over REST and tRPC) against two baselines written for the
// purpose (B0: node:http + pg; B1: Express 5 + pg + HS256), same SQL intent and envelope, driven
// alternately in the same run by a load generator in its own process. Every figure that matters is
// a ratio to a baseline measured minutes apart on the same machine.
//   pnpm bench            full: 10,000 users × 100 tasks, 3 repetitions
//   pnpm bench --smoke    small data, 1 s runs: checks only that everything runs
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureDataset } from "./dataset.ts";
import type { GeneratorConfig, GeneratorResult, Scenario, Target } from "./generator.ts";
import { type Row, renderMarkdown } from "./report.ts";

const { values } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    users: { type: "string" },
    tasks: { type: "string" },
    duration: { type: "string" },
    reps: { type: "string" },
    connections: { type: "string", default: "64" },
    /** Comma-separated subset, e.g. S1,S3 (default: all). */
    scenarios: { type: "string" },
    out: { type: "string", default: join(import.meta.dirname, "../results") },
  },
});
const smoke = values.smoke ?? false;
const users = Number(values.users ?? (smoke ? 100 : 10_000));
const tasksPerUser = Number(values.tasks ?? (smoke ? 10 : 100));
const durationSeconds = Number(values.duration ?? (smoke ? 1 : 8));
const reps = Number(values.reps ?? (smoke ? 1 : 3));
const connections = Number(values.connections);
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const ALL_SCENARIOS: Scenario[] = ["S1", "S2", "S3", "S4", "S5"];
const SCENARIOS = values.scenarios
  ? ALL_SCENARIOS.filter((s) => (values.scenarios as string).split(",").includes(s))
  : ALL_SCENARIOS;
const log = (message: string) => process.stderr.write(`${message}\n`);

// Server on core 0, generator on core 1, where the machine has two.
const pin = (core: number) => (availableParallelism() >= 2 ? ["taskset", "-c", String(core)] : []);

type Server = { name: "B0" | "B1" | "P"; url: string; proc: ChildProcess };

function spawnPinned(core: number, args: string[], env: Record<string, string>) {
  const [cmd, ...rest] = [...pin(core), process.execPath, "--import", "tsx", ...args];
  return spawn(cmd as string, rest, {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function startServer(name: Server["name"], entry: string, env: Record<string, string>) {
  const proc = spawnPinned(0, [entry], env);
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match?.[1]) {
        proc.stdout?.off("data", onData);
        // Keep draining its output (logs) so it never blocks on a full pipe.
        proc.stdout?.resume();
        resolve(match[1]);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    proc.on("exit", (code) => reject(new Error(`${name} exited (${code}):\n${output}`)));
  });
  return { name, url, proc };
}

/** CPU seconds used so far, and peak resident memory, of a process (Linux /proc). */
function processStats(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / 100;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds, peakRssMb: hwmKb / 1024 };
}

function generate(config: GeneratorConfig): Promise<GeneratorResult> {
  return new Promise((resolve, reject) => {
    const proc = spawnPinned(1, ["generator.ts", JSON.stringify(config)], {});
    let out = "";
    let err = "";
    proc.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    proc.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as GeneratorResult) : reject(new Error(err || out)),
    );
  });
}

async function measure(server: Server, target: Target, scenario: Scenario, seconds: number) {
  const pid = server.proc.pid as number;
  const before = processStats(pid);
  const result = await generate({
    url: server.url,
    target,
    scenario,
    connections,
    durationSeconds: seconds,
    users,
    tasksPerUser,
    secret: SECRET,
  });
  const after = processStats(pid);
  return {
    ...result,
    serverCpuPercent: (100 * (after.cpuSeconds - before.cpuSeconds)) / seconds,
    serverPeakRssMb: after.peakRssMb,
  };
}

const dataset = await ensureDataset(users, tasksPerUser, log);
const common = { DATABASE_URL: dataset.url, PORT: "0" };
const servers = {
  B0: await startServer("B0", "baseline-b0.ts", common),
  B1: await startServer("B1", "baseline-b1.ts", { ...common, BENCH_SECRET: SECRET }),
  P: await startServer("P", "../../server/src/main.ts", {
    ...common,
    NODE_ENV: "production",
    BETTER_AUTH_SECRET: SECRET,
    RATE_LIMIT_PER_USER_PER_MINUTE: "0",
    SHUTDOWN_DRAIN_MS: "0",
    LOG_LEVEL: "info",
  }),
};
// The order alternates baselines and product, so drift in the machine hits all of them.
const plan: Array<[Server, Target]> = [
  [servers.B0, "b0"],
  [servers.P, "rest"],
  [servers.B1, "b1"],
  [servers.P, "trpc"],
];

try {
  log("warm-up");
  for (const [server, target] of plan) await measure(server, target, "S1", smoke ? 1 : 3);
  const runs: Row[] = [];
  for (const scenario of SCENARIOS) {
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
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    users,
    tasksPerUser,
    rows: users * tasksPerUser,
    durationSeconds,
    reps,
    connections,
    smoke,
  };
  await mkdir(values.out as string, { recursive: true });
  const name = smoke ? "smoke" : values.scenarios ? `latest-${SCENARIOS.join("-")}` : "latest";
  await writeFile(
    join(values.out as string, `${name}.json`),
    JSON.stringify({ meta, runs }, null, 2),
  );
  const markdown = renderMarkdown(meta, runs);
  await writeFile(join(values.out as string, `${name}.md`), markdown);
  process.stdout.write(markdown);
} finally {
  for (const server of Object.values(servers)) server.proc.kill("SIGTERM");
  // The smoke run's small dataset is not worth keeping; the full one is reused.
  if (smoke) await dataset.drop();
}
