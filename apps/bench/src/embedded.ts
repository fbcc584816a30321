// The embedded database (PGlite, the default without DATABASE_URL) against the real PostgreSQL:
// the same server (main.ts) twice in one run, the same load on each, alternating repetitions, and
// the embedded one's throughput as a ratio of PostgreSQL's.
// Usage: pnpm --filter @todo/bench embedded [--duration 5] [--reps 3] [--connections 16] [--json]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signHs256Token } from "@todo/api/auth";
import { createTestDatabase } from "@todo/db/testing";
import autocannon from "autocannon";
import { listeningUrl } from "./listening.ts";
import { onCore } from "./processes.ts";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    reps: { type: "string", default: "3" },
    connections: { type: "string", default: "16" },
    json: { type: "boolean", default: false },
  },
});
const durationSeconds = Number(values.duration);
const reps = Number(values.reps);
const connections = Number(values.connections);
const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const USERS = 20;
const TASKS_PER_USER = 20;
const log = (message: string) => process.stderr.write(`${message}\n`);
const serverMain = join(import.meta.dirname, "../../server/src/main.ts");

type Server = { name: "PostgreSQL" | "embedded"; url: string; proc: ChildProcess };

/** main.ts as `pnpm start` runs it, pinned to core 0 where there are two (load from core 1). */
async function startServer(name: Server["name"], env: Record<string, string>): Promise<Server> {
  const pin = onCore(0);
  const { DATABASE_URL: _d, DIRECT_URL: _u, ...base } = process.env;
  const [cmd, ...args] = [...pin, process.execPath, "--import", "tsx", serverMain];
  const proc = spawn(cmd as string, args, {
    env: {
      ...base,
      NODE_ENV: "development",
      PORT: "0",
      LOG_LEVEL: "info",
      BETTER_AUTH_SECRET: SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { name, url: await listeningUrl(proc, name), proc };
}

const users = Array.from({ length: USERS }, (_, i) => {
  const id = `bench-embedded-${i}`;
  return {
    id,
    auth: `Bearer ${signHs256Token({ secret: SECRET, userId: id, expiresInSeconds: 3600 })}`,
  };
});
const pick = () => users[Math.floor(Math.random() * users.length)] as (typeof users)[number];

async function seed(server: Server) {
  for (const user of users) {
    for (let i = 0; i < TASKS_PER_USER; i++) {
      const res = await fetch(`${server.url}/api/${user.id}/tasks`, {
        method: "POST",
        headers: { authorization: user.auth, "content-type": "application/json" },
        body: JSON.stringify({ title: `seeded ${i}` }),
      });
      if (res.status !== 201) throw new Error(`${server.name}: seeding answered ${res.status}`);
    }
  }
}

type Load = "list" | "mixed";
const LOADS: Record<Load, string> = {
  list: "REST list (first page of 20)",
  mixed: "70% REST list, 20% REST create, 10% tRPC stats",
};

function request(load: Load) {
  const user = pick();
  const headers = { authorization: user.auth, "content-type": "application/json" };
  const r = Math.random();
  if (load === "mixed" && r < 0.2) {
    return {
      method: "POST" as const,
      path: `/api/${user.id}/tasks`,
      headers,
      body: '{"title":"bench"}',
    };
  }
  if (load === "mixed" && r < 0.3)
    return { method: "GET" as const, path: "/trpc/task.stats", headers };
  return { method: "GET" as const, path: `/api/${user.id}/tasks?limit=20`, headers };
}

async function measure(server: Server, load: Load) {
  const result = await autocannon({
    url: server.url,
    connections,
    duration: durationSeconds,
    // Kept on top of autocannon's own request, which carries the Host header.
    requests: [{ setupRequest: (defaults) => ({ ...defaults, ...request(load) }) }],
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const database = await createTestDatabase({ prefix: "todo_bench_embedded", migrate: true });
const dataDir = await mkdtemp(join(tmpdir(), "todo-bench-embedded-"));
const servers: Server[] = [];
try {
  servers.push(await startServer("PostgreSQL", { DATABASE_URL: database.url }));
  servers.push(await startServer("embedded", { DATA_DIR: dataDir }));
  for (const server of servers) await seed(server);
  const rows: { load: Load; server: string; rps: number; p99: number; failures: number }[] = [];
  for (const load of Object.keys(LOADS) as Load[]) {
    const samples = new Map<string, { rps: number[]; p99: number[]; failures: number }>();
    for (let rep = 0; rep < reps; rep++) {
      // Alternating, so drift on a noisy machine falls on both alike.
      for (const server of rep % 2 === 0 ? servers : [...servers].reverse()) {
        const m = await measure(server, load);
        log(`${load} ${server.name} rep ${rep + 1}: ${m.rps.toFixed(0)} req/s, p99 ${m.p99} ms`);
        const s = samples.get(server.name) ?? { rps: [], p99: [], failures: 0 };
        s.rps.push(m.rps);
        s.p99.push(m.p99);
        s.failures += m.failures;
        samples.set(server.name, s);
      }
    }
    for (const [server, s] of samples) {
      rows.push({ load, server, rps: median(s.rps), p99: median(s.p99), failures: s.failures });
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ connections, durationSeconds, reps, rows })}\n`);
  } else {
    const lines = [
      `Node ${process.version}, ${connections} connections, medians of ${reps} × ${durationSeconds} s, alternating`,
      "",
      "| load | PostgreSQL req/s | embedded req/s | embedded / PostgreSQL | p99 ms (PG / embedded) | failed requests |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
    ];
    for (const load of Object.keys(LOADS) as Load[]) {
      const pg = rows.find((r) => r.load === load && r.server === "PostgreSQL");
      const em = rows.find((r) => r.load === load && r.server === "embedded");
      if (!pg || !em) continue;
      lines.push(
        `| ${LOADS[load]} | ${pg.rps.toFixed(0)} | ${em.rps.toFixed(0)} | ${(em.rps / pg.rps).toFixed(2)} | ${pg.p99} / ${em.p99} | ${pg.failures + em.failures} |`,
      );
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
} finally {
  for (const server of servers) server.proc.kill("SIGTERM");
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((resolve) =>
          s.proc.exitCode !== null ? resolve(null) : s.proc.once("exit", resolve),
        ),
    ),
  );
  await rm(dataDir, { recursive: true, force: true });
  await database.drop();
}
