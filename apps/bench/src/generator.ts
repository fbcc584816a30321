// The closed-loop load generator, run as its own process (on its own core where taskset allows).
// The requests of a run are drawn in advance; wrk (Debian's package) replays them with a Lua script,
// so the generator costs little per request. Without wrk (a machine that only runs the smoke test)
// autocannon replays the same draw. argv[2] is a JSON GeneratorConfig; the result is printed as JSON.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuUsage } from "node:process";
import { taskIdOf, userIdOf } from "./dataset.ts";
import { readTokens } from "./tokens.ts";

export type Target = "b0" | "b1" | "b2" | "rest" | "trpc";
export type Scenario = "S1" | "S2" | "S3" | "S4" | "S5";
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

// Zipf (s = 1) over users, for S4: a few users are very busy, most are not.
const zipfCdf = (() => {
  const weights = Array.from({ length: config.users }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
})();
function zipfUser(): number {
  const r = Math.random();
  let lo = 0;
  let hi = zipfCdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((zipfCdf[mid] ?? 1) < r) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}
const uniformUser = () => 1 + Math.floor(Math.random() * config.users);

type Op = "list" | "create" | "toggle";
type Draw = { method: "GET" | "POST" | "PATCH"; path: string; token: string; body: string };

function request(op: Op, user: number, invalidToken: boolean): Draw {
  const userId = userIdOf(user);
  const token = invalidToken ? `${tokenOf(user).slice(0, -4)}AAAA` : tokenOf(user);
  const taskId =
    op === "toggle" ? taskIdOf(userId, 1 + Math.floor(Math.random() * config.tasksPerUser)) : "";
  // B2 answers tRPC's requests, with the product's procedure names and inputs.
  if (config.target === "trpc" || config.target === "b2") {
    if (op === "list") {
      const input = encodeURIComponent(JSON.stringify({ limit: 20 }));
      return { method: "GET", path: `/trpc/task.list?input=${input}`, token, body: "" };
    }
    if (op === "create") {
      return { method: "POST", path: "/trpc/task.create", token, body: '{"title":"bench"}' };
    }
    return {
      method: "POST",
      path: "/trpc/task.toggle",
      token,
      body: JSON.stringify({ id: taskId }),
    };
  }
  const base = `/api/${userId}/tasks`;
  if (op === "list") return { method: "GET", path: `${base}?limit=20`, token, body: "" };
  if (op === "create") return { method: "POST", path: base, token, body: '{"title":"bench"}' };
  return { method: "PATCH", path: `${base}/${taskId}/complete`, token, body: "" };
}

function draw(): Draw {
  switch (config.scenario) {
    case "S1":
      return request("list", uniformUser(), false);
    case "S2":
      return request("create", uniformUser(), false);
    case "S3":
      return request("toggle", uniformUser(), false);
    case "S4": {
      const r = Math.random();
      const op: Op = r < 0.8 ? "list" : r < 0.9 ? "create" : "toggle";
      return request(op, zipfUser(), false);
    }
    case "S5":
      return request("list", uniformUser(), Math.random() < 0.1);
  }
}

// Enough draws that users and tasks repeat rarely within a run.
const DRAWS = 20_000;
const draws = Array.from({ length: DRAWS }, draw);

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
