// The closed-loop load generator, run as its own process (on its own core where taskset allows).
// The requests of a run are drawn in advance; wrk (Debian's package) replays them with a Lua script,
// so the generator costs little per request. Without wrk (a machine that only runs the smoke test)
// autocannon replays the same draw. argv[2] is a JSON GeneratorConfig; the result is printed as JSON.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { type Draw, drawRequests, type Scenario, type Target } from "./requests.ts";
import { readTokens } from "./tokens.ts";

export type { Scenario, Target };
export type GeneratorConfig = {
  url: string;
  target: Target;
  scenario: Scenario;
  connections: number;
  durationSeconds: number;
  users: number;
  tasksPerUser: number;
  /** Pre-signed tokens (tokens.ts). */
  tokensFile: string;
};
export type GeneratorResult = {
  tool: "wrk" | "autocannon";
  requestsPerSecond: number;
  /** autocannon reports fixed percentiles, without a 95th (null when it generated the load). */
  latencyMs: { p50: number; p95: number | null; p99: number };
  requests: number;
  errors: number;
  serverErrors: number;
  non2xx: number;
  generatorCpuMs: number;
};

const config = JSON.parse(process.argv[2] ?? "{}") as GeneratorConfig;
const tokenOf = readTokens(config.tokensFile);

// Enough draws that users and tasks repeat rarely within a run.
const draws = drawRequests({ ...config, tokenOf }, 20_000);

function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // wrk prints its usage and exits 1 when asked for its version; only a missing binary fails.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

async function withWrk(): Promise<GeneratorResult> {
  const dir = mkdtempSync(join(tmpdir(), "todo-bench-wrk-"));
  try {
    const file = join(dir, "requests.tsv");
    writeFileSync(
      file,
      draws.map((d) => `${d.method}\t${d.path}\t${d.token}\t${d.body}`).join("\n"),
    );
    const args = [
      "-t1",
      `-c${config.connections}`,
      `-d${config.durationSeconds}s`,
      "--timeout",
      "10s",
      "-s",
      join(import.meta.dirname, "wrk.lua"),
      config.url,
    ];
    // bash's `times` prints the CPU time its children used: wrk's own, after it exits.
    const out = await new Promise<string>((resolve, reject) => {
      const proc = spawn("bash", ["-c", 'wrk "$@" && times', "wrk", ...args], {
        env: { ...process.env, BENCH_REQUESTS: file },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      proc.stdout.on("data", (c: Buffer) => {
        text += c.toString();
      });
      proc.stderr.on("data", (c: Buffer) => {
        text += c.toString();
      });
      proc.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(text))));
    });
    const line = out.split("\n").find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(line) as Record<string, number>;
    const children = out.trim().split("\n").at(-1) ?? "";
    const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
      (sum, m) => sum + Number(m[1]) * 60 + Number(m[2]),
      0,
    );
    const n = (key: string) => r[key] ?? 0;
    return {
      tool: "wrk",
      requestsPerSecond: n("requests") / (n("durationUs") / 1e6),
      latencyMs: { p50: n("p50Us") / 1000, p95: n("p95Us") / 1000, p99: n("p99Us") / 1000 },
      requests: n("requests"),
      errors: n("errors") + n("timeouts"),
      serverErrors: n("s5xx"),
      non2xx: n("s4xx") + n("s5xx") + n("other"),
      generatorCpuMs: seconds * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withAutocannon(): Promise<GeneratorResult> {
  const { default: autocannon } = await import("autocannon");
  let i = 0;
  const next = () => {
    const d = draws[i++ % draws.length] as Draw;
    const headers: Record<string, string> = { authorization: `Bearer ${d.token}` };
    if (d.body) headers["content-type"] = "application/json";
    return { method: d.method, path: d.path, headers, ...(d.body ? { body: d.body } : {}) };
  };
  const cpuBefore = cpuUsage();
  const result = await autocannon({
    url: config.url,
    connections: config.connections,
    duration: config.durationSeconds,
    requests: [{ setupRequest: (req) => ({ ...req, ...next() }) }],
  });
  const cpu = cpuUsage(cpuBefore);
  const fiveXx = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => code.startsWith("5"))
    .reduce((sum, [, stats]) => sum + (stats as { count: number }).count, 0);
  return {
    tool: "autocannon",
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p95: null, p99: result.latency.p99 },
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    serverErrors: fiveXx,
    non2xx: result.non2xx,
    generatorCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

const out = hasWrk() ? await withWrk() : await withAutocannon();
process.stdout.write(`${JSON.stringify(out)}\n`);
