// The soak: the product as production runs it (compiled, one process pinned to core 0) under an
// open loop of S4 (80% lists, 10% creates, 10% toggles, Zipf users) at half of its own closed-loop
// saturation, for --minutes in one-minute segments, its RSS read every 5 s. Memory that creeps up
// under steady load shows as the last minute's RSS above the second minute's (the first is
// warm-up: JIT, pools, caches filling). With --heap-snapshots DIR the server writes a heap snapshot
// after the second minute and after the last, to compare what holds memory.
//   pnpm --filter @todo/bench soak [--minutes 10] [--target rest|trpc] [--fraction 0.5]
//                                  [--connections 256] [--heap-snapshots DIR]
// (--segment 3 --users 100: seconds instead of minutes, on a small throwaway dataset; the test
// suite runs it so that it never rots.)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { ensureDataset } from "./dataset.ts";
import type { GeneratorConfig, GeneratorResult } from "./generator.ts";
import { listeningUrl } from "./listening.ts";
import type { OpenLoopConfig, OpenLoopResult } from "./open-loop.ts";
import { onCore, pinPostgresWhileRunning } from "./processes.ts";
import type { Target } from "./requests.ts";
import { writeTokens } from "./tokens.ts";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    target: { type: "string", default: "rest" },
    fraction: { type: "string", default: "0.5" },
    connections: { type: "string", default: "256" },
    "heap-snapshots": { type: "string" },
    /** Seconds per segment (the report's "minute"); shorter only to check that it runs. */
    segment: { type: "string", default: "60" },
    users: { type: "string", default: "10000" },
    out: { type: "string", default: join(import.meta.dirname, "../results") },
  },
});
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const USERS = Number(values.users);
const SEGMENT = Number(values.segment);
const TASKS = 100;
const minutes = Number(values.minutes);
const target = values.target as Target;
const log = (message: string) => process.stderr.write(`${message}\n`);

function spawnPinned(core: number, args: string[], env: Record<string, string> = {}) {
  const [cmd, ...rest] = [...onCore(core), process.execPath, ...args];
  return spawn(cmd as string, rest, {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function jsonOf<T>(proc: ChildProcess): Promise<T> {
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.resume();
  const code = await new Promise((done) => proc.on("exit", done));
  if (code !== 0) throw new Error(`generator exited with ${code}`);
  return JSON.parse(out) as T;
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

// A dataset of other dimensions (a quick check) is this run's own and is dropped at the end.
const throwaway = USERS !== 10_000;
const dataset = await ensureDataset(USERS, TASKS, log, { throwaway });
const pinned = pinPostgresWhileRunning(dataset.url, 1, !throwaway);
log(`PostgreSQL: ${pinned.description}`);
const dir = await mkdtemp(join(tmpdir(), "todo-soak-"));
const tokensFile = join(dir, "tokens.json");
writeTokens(tokensFile, SECRET, USERS, 2 + Math.ceil(minutes / 60));

execFileSync(process.execPath, ["--import", "tsx", "../../server/scripts/build.ts"], {
  cwd: import.meta.dirname,
  stdio: ["ignore", "ignore", "inherit"],
});
const snapshots = values["heap-snapshots"] ? resolve(values["heap-snapshots"]) : undefined;
if (snapshots) await mkdir(snapshots, { recursive: true });
/** The product, started afresh: one process for the saturation run, another for the soak. */
function startProduct() {
  return spawnPinned(
    0,
    [
      "--enable-source-maps",
      ...(snapshots ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${snapshots}`] : []),
      "../../server/dist/main.js",
    ],
    {
      DATABASE_URL: dataset.url,
      PORT: "0",
      NODE_ENV: "production",
      BETTER_AUTH_SECRET: SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      SHUTDOWN_DRAIN_MS: "0",
      LOG_LEVEL: "info",
    },
  );
}
async function stop(proc: ChildProcess) {
  if (proc.exitCode !== null) return;
  proc.kill("SIGTERM");
  await new Promise((done) => proc.once("exit", done));
}

type Minute = {
  minute: number;
  offered: number;
  achieved: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  rssMeanMb: number;
  rssMaxMb: number;
};
const minutesRows: Minute[] = [];
let server = startProduct();
try {
  // Saturation is measured on a process of its own: a closed loop leaves the heap it grew behind,
  // which would then shrink during the soak and hide any growth.
  const probeUrl = await listeningUrl(server, "P");
  const closed = (durationSeconds: number): GeneratorConfig => ({
    url: probeUrl,
    target,
    scenario: "S4",
    connections: 64,
    durationSeconds,
    users: USERS,
    tasksPerUser: TASKS,
    tokensFile,
  });
  const warmUp = closed(Math.min(5, SEGMENT));
  await jsonOf(spawnPinned(1, ["--import", "tsx", "generator.ts", JSON.stringify(warmUp)]));
  const saturation = await jsonOf<GeneratorResult>(
    spawnPinned(1, [
      "--import",
      "tsx",
      "generator.ts",
      JSON.stringify(closed(Math.min(10, SEGMENT))),
    ]),
  );
  const rate = Math.round(Number(values.fraction) * saturation.requestsPerSecond);
  await stop(server);
  server = startProduct();
  const url = await listeningUrl(server, "P");
  const pid = server.pid as number;
  log(
    `saturation (closed loop, S4 over ${target}): ${Math.round(saturation.requestsPerSecond)} req/s; soaking at ${rate}/s for ${minutes} min`,
  );

  for (let minute = 1; minute <= minutes; minute++) {
    const config: OpenLoopConfig = {
      url,
      target,
      scenario: "S4",
      tasksPerUser: TASKS,
      rate,
      connections: Number(values.connections),
      durationSeconds: SEGMENT,
      users: USERS,
      tokensFile,
    };
    const generator = spawnPinned(1, ["--import", "tsx", "open-loop.ts", JSON.stringify(config)]);
    const samples: number[] = [rssMb(pid)];
    const sampler = setInterval(() => samples.push(rssMb(pid)), Math.min(5_000, SEGMENT * 300));
    const result = await jsonOf<OpenLoopResult>(generator).finally(() => clearInterval(sampler));
    const row: Minute = {
      minute,
      offered: rate,
      achieved: result.achievedRate,
      p50: result.latencyMs.p50,
      p99: result.latencyMs.p99,
      max: result.latencyMs.max,
      errors: result.errors,
      non2xx: result.non2xx,
      rssMeanMb: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length),
      rssMaxMb: Math.max(...samples),
    };
    minutesRows.push(row);
    log(
      `minute ${minute}: ${row.achieved}/s, p50 ${row.p50} ms, p99 ${row.p99} ms, errors ${row.errors}, non-2xx ${row.non2xx}, RSS ${row.rssMeanMb.toFixed(1)} MB (max ${row.rssMaxMb.toFixed(1)})`,
    );
    if (snapshots && (minute === 2 || minute === minutes)) {
      process.kill(pid, "SIGUSR2");
      await sleep(15_000); // the snapshot stops the process while it is written
    }
  }

  const second = minutesRows[1];
  const last = minutesRows.at(-1);
  const growth = second && last ? last.rssMeanMb / second.rssMeanMb - 1 : Number.NaN;
  const f = (n: number) => n.toFixed(1);
  const markdown = [
    `## Soak: S4 over ${target}, ${minutes} × ${SEGMENT} s at ${Number(values.fraction)} × saturation`,
    "",
    `Run ${new Date().toISOString()}: Node ${process.version}, the product compiled (dist/main.js), pinned to core 0; open loop (Poisson arrivals) at ${minutesRows[0]?.offered ?? 0}/s over ${values.connections} connections, half of the ${Math.round(saturation.requestsPerSecond)} req/s a fresh process of the same build took in a closed loop just before (10 s after a 5 s warm-up; the soak's process is started afresh after it). PostgreSQL: ${pinned?.description ?? "not pinned"}.`,
    "",
    "| minute | offered /s | achieved /s | p50 ms | p99 ms | max ms | errors | non-2xx | RSS mean MB | RSS max MB |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...minutesRows.map(
      (r) =>
        `| ${r.minute} | ${r.offered} | ${r.achieved} | ${r.p50} | ${r.p99} | ${r.max} | ${r.errors} | ${r.non2xx} | ${f(r.rssMeanMb)} | ${f(r.rssMaxMb)} |`,
    ),
    "",
    `RSS in the last minute against the second: ${growth >= 0 ? "+" : ""}${(100 * growth).toFixed(1)}% (target: within 5%: ${Math.abs(growth) <= 0.05 ? "met" : "not met"}). Errors in all: ${minutesRows.reduce((a, r) => a + r.errors, 0)}.`,
    ...(snapshots
      ? ["", `Heap snapshots (after minute 2 and minute ${minutes}): ${snapshots}`]
      : []),
    "",
  ].join("\n");
  await mkdir(values.out as string, { recursive: true });
  await writeFile(join(values.out as string, `soak-${target}.md`), markdown);
  await writeFile(
    join(values.out as string, `soak-${target}.json`),
    JSON.stringify({ saturation, minutes: minutesRows, growth }, null, 2),
  );
  process.stdout.write(markdown);
} finally {
  await stop(server);
  await rm(dir, { recursive: true, force: true });
  if (throwaway) await dataset.drop();
}
