// Where the product's CPU goes under one scenario: starts the real server (production settings,
// pinned to core 0) with the inspector on, warms it up with the closed-loop generator (core 1),
// then records a CPU profile (Chrome DevTools Protocol, Profiler domain) of exactly the measured
// load, and sums its busy time by package (self, and inclusive: a sample counts once for every
// package on its stack) and by function (self time).
// Profiling a reference (--target b0|b1|b2) runs that bare server instead, under the same load, so
// the product's CPU per request can be set beside what the reference spends on the same work.
//   pnpm --filter @todo/bench profile [--target rest|trpc|b0|b1|b2] [--scenario S1] [--seconds 12]
//                                     [--compiled]
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "undici";
import { ensureDataset } from "./dataset.ts";
import type { GeneratorConfig, GeneratorResult, Scenario, Target } from "./generator.ts";
import { listeningUrl } from "./listening.ts";
import { onCore } from "./processes.ts";
import { writeTokens } from "./tokens.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "rest" },
    scenario: { type: "string", default: "S1" },
    seconds: { type: "string", default: "12" },
    users: { type: "string", default: "10000" },
    tasks: { type: "string", default: "100" },
    top: { type: "string", default: "25" },
    /** The product compiled to JavaScript (apps/server/dist, built first), as production runs it. */
    compiled: { type: "boolean", default: false },
  },
});
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const users = Number(values.users);
const tasksPerUser = Number(values.tasks);
const pin = onCore;

type CallFrame = { functionName: string; url: string };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** The package a frame belongs to: a dependency's name, a workspace folder, or node itself. */
function packageOf(url: string): string {
  if (!url) return "(native frames)";
  const dep = /node_modules\/\.pnpm\/(@?[^@/]+(?:\+[^@/]+)?)@/.exec(url);
  if (dep?.[1]) return dep[1].replace("+", "/");
  const workspace = /\/((?:apps|packages)\/[^/]+)\//.exec(url);
  if (workspace?.[1]) return workspace[1];
  if (url.startsWith("node:")) return "node (built-in modules)";
  return url;
}

export function summarize(profile: CpuProfile, top: number, requests = 0) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);

  const idleNames = new Set(["(idle)", "(program)"]);
  let busy = 0;
  let busyMicros = 0;
  profile.samples.forEach((id, i) => {
    const name = byId.get(id)?.callFrame.functionName ?? "";
    if (!idleNames.has(name)) busyMicros += profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
  });
  const inclusive = new Map<string, number>();
  const selfByPackage = new Map<string, number>();
  const self = new Map<string, number>();
  for (const [id, count] of counts) {
    const node = byId.get(id);
    if (!node || idleNames.has(node.callFrame.functionName)) continue;
    busy += count;
    const key = `${node.callFrame.functionName || "(anonymous)"}  [${packageOf(node.callFrame.url)}]`;
    self.set(key, (self.get(key) ?? 0) + count);
    const own = packageOf(node.callFrame.url);
    selfByPackage.set(own, (selfByPackage.get(own) ?? 0) + count);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      const pkg = packageOf(frame.url);
      // Node's own modules and native frames sit under nearly every stack (the event loop, the
      // microtask queue): as "inclusive" they would say nothing.
      if (pkg === "(native frames)" || pkg.startsWith("node (")) continue;
      if (!seen.has(pkg)) {
        seen.add(pkg);
        inclusive.set(pkg, (inclusive.get(pkg) ?? 0) + count);
      }
    }
  }
  const share = (n: number) => `${((100 * n) / busy).toFixed(1)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  const perRequest =
    requests > 0 ? `, ${Math.round(busyMicros / requests)} µs busy per request` : "";
  return [
    `busy samples: ${busy} of ${profile.samples.length} (${((100 * busy) / profile.samples.length).toFixed(1)}%)${perRequest}`,
    "",
    "| package | self | inclusive (a frame of it on the stack) |",
    "| --- | ---: | ---: |",
    ...sorted(selfByPackage).map(
      ([k, n]) =>
        `| ${k} | ${share(n)} | ${inclusive.has(k) ? share(inclusive.get(k) ?? 0) : "–"} |`,
    ),
    "",
    "| function (self) | share of busy time |",
    "| --- | ---: |",
    ...sorted(self).map(([k, n]) => `| ${k} | ${share(n)} |`),
  ].join("\n");
}

function run(core: number, args: string[], env: Record<string, string> = {}) {
  const [cmd, ...rest] = [...pin(core), process.execPath, ...args];
  return spawn(cmd as string, rest, {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function generate(config: GeneratorConfig): Promise<GeneratorResult> {
  const proc = run(1, ["--import", "tsx", "generator.ts", JSON.stringify(config)]);
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await new Promise((resolve) => proc.on("exit", resolve));
  return JSON.parse(out) as GeneratorResult;
}

const dataset = await ensureDataset(users, tasksPerUser, (m) => process.stderr.write(`${m}\n`));
const dir = await mkdtemp(join(tmpdir(), "todo-profile-"));
const tokensFile = join(dir, "tokens.json");
writeTokens(tokensFile, SECRET, users);

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function inspector(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return {
    send<T>(method: string, params: object = {}): Promise<T> {
      const callId = ++id;
      ws.send(JSON.stringify({ id: callId, method, params }));
      return new Promise((resolve) => pending.set(callId, resolve as (r: unknown) => void));
    },
    close: () => ws.close(),
  };
}

const REFERENCES: Record<string, string> = {
  b0: "baseline-b0.ts",
  b1: "baseline-b1.ts",
  b2: "baseline-b2.ts",
};
function entry(): string[] {
  const reference = REFERENCES[values.target];
  if (reference) return ["--import", "tsx", reference];
  if (!values.compiled) return ["--import", "tsx", "../../server/src/main.ts"];
  execFileSync(process.execPath, ["--import", "tsx", "../../server/scripts/build.ts"], {
    cwd: import.meta.dirname,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return ["--enable-source-maps", "../../server/dist/main.js"];
}

try {
  const server = run(0, ["--inspect=127.0.0.1:0", ...entry()], {
    DATABASE_URL: dataset.url,
    PORT: "0",
    NODE_ENV: "production",
    BETTER_AUTH_SECRET: SECRET,
    BENCH_SECRET: SECRET,
    RATE_LIMIT_PER_USER_PER_MINUTE: "0",
    SHUTDOWN_DRAIN_MS: "0",
    LOG_LEVEL: "info",
  });
  const wsUrl = await new Promise<string>((resolve) => {
    let text = "";
    const onData = (c: Buffer) => {
      text += c.toString();
      const match = /Debugger listening on (ws:\/\/\S+)/.exec(text);
      if (match?.[1]) {
        server.stderr?.off("data", onData);
        server.stderr?.resume();
        resolve(match[1]);
      }
    };
    server.stderr?.on("data", onData);
  });
  const url = await listeningUrl(server, values.target);
  const config = (durationSeconds: number): GeneratorConfig => ({
    url,
    target: values.target as Target,
    scenario: values.scenario as Scenario,
    connections: 64,
    durationSeconds,
    users,
    tasksPerUser,
    tokensFile,
  });
  await generate(config(3)); // warm-up, not profiled
  const cdp = await inspector(wsUrl);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.start");
  const result = await generate(config(Number(values.seconds)));
  const { profile } = await cdp.send<{ profile: CpuProfile }>("Profiler.stop");
  cdp.close();
  server.kill("SIGINT");
  await new Promise((resolve) => server.on("exit", resolve));
  process.stdout.write(
    `${values.scenario} over ${values.target}: ${Math.round(result.requestsPerSecond)} req/s under the profiler (${values.seconds} s profiled, after a 3 s warm-up that is not)\n\n${summarize(profile, Number(values.top), result.requests)}\n`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
