// WEB_CONCURRENCY > 1: this process runs that many servers (serve.ts) as node:cluster workers,
// which share the port (the primary hands out connections in turn). The instance's database
// budget is shared: each worker's pool gets DATABASE_POOL_MAX / WEB_CONCURRENCY connections (at
// least one), and its live streams LIVE_STREAMS_PER_INSTANCE / WEB_CONCURRENCY; each worker also
// holds its own listening connection. A worker that dies is replaced (unless they keep dying);
// SIGTERM or SIGINT stops every worker gracefully and exits once they have.
import cluster from "node:cluster";
import { pino } from "pino";
import { loadOrCreateDevSecret } from "./dev-secret.ts";
import { loadEnv } from "./env.ts";

/** More restarts than this within RESTART_WINDOW_MS: something is wrong; stop. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;

const env = loadEnv();
const logger = pino(
  { level: env.LOG_LEVEL, base: { role: "primary" } },
  pino.destination({ dest: 1, sync: false }),
);
const count = env.WEB_CONCURRENCY;
const poolMax = Math.max(1, Math.floor(env.DATABASE_POOL_MAX / count));
const streamsMax = Math.max(1, Math.floor(env.LIVE_STREAMS_PER_INSTANCE / count));
const workerEnv = {
  DATABASE_POOL_MAX: String(poolMax),
  LIVE_STREAMS_PER_INSTANCE: String(streamsMax),
};

// A development secret is made once, here, rather than raced for by every worker.
if (!env.BETTER_AUTH_SECRET && env.verifiers.includes("hs256")) {
  await loadOrCreateDevSecret(env.DATA_DIR);
}
logger.info(
  `Starting ${count} server processes (node:cluster, Node ${process.version}): each with at most ${poolMax} database connections and ${streamsMax} live streams`,
);
if (env.RATE_LIMIT_PER_USER_PER_MINUTE > 0 && !env.REDIS_URL) {
  logger.warn("Rate limits are counted by each process apart: set REDIS_URL to share them");
}

let stopping = false;
let exitCode = 0;
const restarts: number[] = [];

for (let i = 0; i < count; i++) cluster.fork(workerEnv);

cluster.on("exit", (worker, code, signal) => {
  if (stopping) {
    if (code !== 0 && code !== null) exitCode = code;
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      // (pino writes out what is pending as the process exits.)
      logger.info("Every server process has stopped");
      process.exit(exitCode);
    }
    return;
  }
  const now = Date.now();
  restarts.push(now);
  while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
  logger.error(
    `Server process ${worker.process.pid} exited (${signal ?? `code ${code}`}); ${restarts.length > MAX_RESTARTS ? "too many restarts, stopping" : "starting another"}`,
  );
  if (restarts.length > MAX_RESTARTS) {
    exitCode = 1;
    stop("SIGTERM");
    return;
  }
  setTimeout(() => {
    if (!stopping) cluster.fork(workerEnv);
  }, RESTART_DELAY_MS).unref();
});

function stop(signal: NodeJS.Signals): void {
  stopping = true;
  const workers = Object.values(cluster.workers ?? {});
  if (workers.length === 0) process.exit(exitCode);
  for (const worker of workers) worker?.process.kill(signal);
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
