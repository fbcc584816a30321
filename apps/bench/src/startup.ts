// Start-up of the product two ways, alternating: its sources through tsx (`pnpm start`) and
// compiled to JavaScript (`node dist/main.js`, as production runs it). For each start: the time
// from spawn to "Listening", and the memory then (the server's RSS, plus that of its children:
// tsx runs an esbuild service beside it), on a migrated PostgreSQL database of its own.
// Usage: pnpm --filter @todo/bench startup [--reps 5] [--json]
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createTestDatabase } from "@todo/db/testing";
import { listeningUrl } from "./listening.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    json: { type: "boolean", default: false },
  },
});
const serverDir = join(import.meta.dirname, "../../server");
const log = (message: string) => process.stderr.write(`${message}\n`);

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
function childrenOf(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

const MODES = {
  tsx: ["--import", "tsx", "src/main.ts"],
  compiled: ["--enable-source-maps", "dist/main.js"],
} as const;
type Mode = keyof typeof MODES;

async function start(mode: Mode, databaseUrl: string) {
  const started = performance.now();
  const proc = spawn(process.execPath, MODES[mode], {
    cwd: serverDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: databaseUrl,
      BETTER_AUTH_SECRET: "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
      SHUTDOWN_DRAIN_MS: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await listeningUrl(proc, mode);
  const ms = performance.now() - started;
  const pid = proc.pid as number;
  const serverMb = rssKb(pid) / 1024;
  const childrenMb = childrenOf(pid).reduce((sum, child) => sum + rssKb(child), 0) / 1024;
  proc.kill("SIGTERM");
  await new Promise((resolve) => proc.once("exit", resolve));
  return { mode, ms, serverMb, childrenMb };
}

log("building the compiled server");
execFileSync(process.execPath, ["--import", "tsx", "scripts/build.ts"], {
  cwd: serverDir,
  stdio: ["ignore", "ignore", "inherit"],
});
const database = await createTestDatabase({ prefix: "todo_bench_startup", migrate: true });
try {
  const runs: Array<Awaited<ReturnType<typeof start>>> = [];
  for (let rep = 0; rep <= Number(values.reps); rep++) {
    for (const mode of Object.keys(MODES) as Mode[]) {
      const run = await start(mode, database.url);
      // The first round warms the disk cache: not counted.
      if (rep > 0) runs.push(run);
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const summary = (Object.keys(MODES) as Mode[]).map((mode) => {
    const mine = runs.filter((r) => r.mode === mode);
    return {
      mode,
      startMs: median(mine.map((r) => r.ms)),
      serverRssMb: median(mine.map((r) => r.serverMb)),
      childrenRssMb: median(mine.map((r) => r.childrenMb)),
    };
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ node: process.version, summary })}\n`);
  for (const s of summary) {
    log(
      `${s.mode.padEnd(8)} start ${s.startMs.toFixed(0)} ms, RSS ${s.serverRssMb.toFixed(1)} MB + ${s.childrenRssMb.toFixed(1)} MB in child processes (median of ${values.reps}, Node ${process.version})`,
    );
  }
} finally {
  await database.drop();
}
