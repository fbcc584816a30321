// The load generator, run as its own process (on its own core where taskset allows): autocannon
// in closed loop. argv[2] is a JSON GeneratorConfig; the result is printed as JSON.
import { cpuUsage } from "node:process";
import autocannon from "autocannon";
import jwt from "jsonwebtoken";
import { taskIdOf, userIdOf } from "./dataset.ts";

export type Target = "b0" | "b1" | "rest" | "trpc";
export type Scenario = "S1" | "S2" | "S3" | "S4" | "S5";
export type GeneratorConfig = {
  url: string;
  target: Target;
  scenario: Scenario;
  connections: number;
  durationSeconds: number;
  users: number;
  tasksPerUser: number;
  secret: string;
};
export type GeneratorResult = {
  requestsPerSecond: number;
  /** autocannon reports fixed percentiles: 97.5 stands where 95 is usually asked for. */
  latencyMs: { p50: number; p97_5: number; p99: number };
  requests: number;
  errors: number;
  serverErrors: number;
  non2xx: number;
  generatorCpuMs: number;
};

const config = JSON.parse(process.argv[2] ?? "{}") as GeneratorConfig;
const tokens = new Map<string, string>();
const tokenFor = (userId: string) => {
  let token = tokens.get(userId);
  if (!token) {
    token = jwt.sign({ sub: userId }, config.secret, { algorithm: "HS256", expiresIn: 3600 });
    tokens.set(userId, token);
  }
  return token;
};

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
function request(op: Op, userId: string, invalidToken: boolean) {
  const token = invalidToken ? `${tokenFor(userId).slice(0, -4)}AAAA` : tokenFor(userId);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const taskId = taskIdOf(userId, 1 + Math.floor(Math.random() * config.tasksPerUser));
  if (config.target === "trpc") {
    if (op === "list") {
      const input = encodeURIComponent(JSON.stringify({ limit: 20 }));
      return { method: "GET" as const, path: `/trpc/task.list?input=${input}`, headers };
    }
    if (op === "create") {
      return {
        method: "POST" as const,
        path: "/trpc/task.create",
        headers,
        body: '{"title":"bench"}',
      };
    }
    return {
      method: "POST" as const,
      path: "/trpc/task.toggle",
      headers,
      body: JSON.stringify({ id: taskId }),
    };
  }
  const base = `/api/${userId}/tasks`;
  if (op === "list") return { method: "GET" as const, path: `${base}?limit=20`, headers };
  if (op === "create")
    return { method: "POST" as const, path: base, headers, body: '{"title":"bench"}' };
  return { method: "PATCH" as const, path: `${base}/${taskId}/complete`, headers };
}

function next() {
  switch (config.scenario) {
    case "S1":
      return request("list", userIdOf(uniformUser()), false);
    case "S2":
      return request("create", userIdOf(uniformUser()), false);
    case "S3":
      return request("toggle", userIdOf(uniformUser()), false);
    case "S4": {
      const r = Math.random();
      const op: Op = r < 0.8 ? "list" : r < 0.9 ? "create" : "toggle";
      return request(op, userIdOf(zipfUser()), false);
    }
    case "S5":
      return request("list", userIdOf(uniformUser()), Math.random() < 0.1);
  }
}

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
const out: GeneratorResult = {
  requestsPerSecond: result.requests.average,
  latencyMs: {
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
  },
  requests: result.requests.total,
  errors: result.errors + result.timeouts,
  serverErrors: fiveXx,
  non2xx: result.non2xx,
  generatorCpuMs: (cpu.user + cpu.system) / 1000,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
