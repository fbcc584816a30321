// One server process: configuration, database (embedded when no DATABASE_URL), HTTP server,
// shutdown. Run by main.ts, alone or as one of WEB_CONCURRENCY workers (cluster.ts).
import cluster from "node:cluster";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { LiveHub } from "@todo/api/live";
import { createDb, type DbOptions } from "@todo/db/client";
import type { Response } from "express";
import { pino } from "pino";
import { createApp } from "./app.ts";
import { createVerifier } from "./auth.ts";
import { loadOrCreateDevSecret } from "./dev-secret.ts";
import { type Env, EnvError, loadEnv } from "./env.ts";
import { startHousekeeping } from "./housekeeping.ts";
import { answerClientErrors } from "./http/client-error.ts";
import { createMetrics } from "./http/metrics.ts";
import { rateLimiting } from "./http/rate-limit.ts";
import { listenForChanges } from "./live/listener.ts";
import { REST_ROUTES } from "./rest/routes.ts";

/** After shutdown's last events, how long clients get to close their streams themselves. */
const STREAM_CLOSE_GRACE_MS = 500;

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = pino(
  {
    level: env.LOG_LEVEL,
    // Under WEB_CONCURRENCY, each line says which process wrote it.
    base: cluster.isWorker ? { worker: cluster.worker?.id, pid: process.pid } : undefined,
    // Defence in depth: no credential reaches the logs even if a header is logged by mistake.
    redact: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.token"],
  },
  // Asynchronous writes: a request never waits for its log line to reach stdout, and lines logged
  // while a write is in flight go out together. pino flushes what is pending when the process exits.
  pino.destination({ dest: 1, sync: false }),
);

logger.info(`Starting (Node ${process.version}, ${env.NODE_ENV})`);

type Database = { url: string; options: Partial<DbOptions>; stop?: () => Promise<void> };

async function resolveDatabase(): Promise<Database> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, options: {} };
  // Loaded only here, so a server with a real database never loads PGlite or the migrator.
  const { startEmbeddedPostgres, EMBEDDED_DB_OPTIONS } = await import("./embedded-db.ts");
  const { deployMigrations } = await import("@todo/db/migrate");
  const started = Date.now();
  const embedded = await startEmbeddedPostgres(env.DATA_DIR);
  logger.info(`No DATABASE_URL: using the embedded PostgreSQL in ${embedded.dataPath}`);
  logger.info(`Embedded PostgreSQL reachable while the server runs at ${embedded.url}`);
  await deployMigrations(embedded.url);
  logger.info(`Embedded database ready and migrated in ${Date.now() - started} ms`);
  return { url: embedded.url, options: EMBEDDED_DB_OPTIONS, stop: embedded.stop };
}

async function resolveSecret(): Promise<string | undefined> {
  if (env.BETTER_AUTH_SECRET || !env.verifiers.includes("hs256")) return env.BETTER_AUTH_SECRET;
  const { secret, created, path } = await loadOrCreateDevSecret(env.DATA_DIR);
  logger.warn(
    `BETTER_AUTH_SECRET is not set: ${created ? "created" : "using"} the development secret in ${path}`,
  );
  return secret;
}

const database = await resolveDatabase();
const verifier = createVerifier(env, { secret: await resolveSecret(), logger });
logger.info(
  `Accepting tokens: ${[
    env.verifiers.includes("hs256") ? "HS256 (shared secret)" : "",
    env.jwks ? `${env.JWT_ALGORITHMS.join("/")} from ${env.jwks.url} (iss ${env.jwks.issuer})` : "",
  ]
    .filter(Boolean)
    .join(" and ")}`,
);
// The database is not contacted here: if it is down, the server still starts, readiness says
// 503, and requests succeed again as soon as it is back.
const handle = createDb({
  url: database.url,
  poolMax: env.DATABASE_POOL_MAX,
  statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
  idleTimeoutMs: env.DATABASE_POOL_IDLE_TIMEOUT_MS,
  ...database.options,
});
const limits =
  env.RATE_LIMIT_PER_USER_PER_MINUTE > 0
    ? await rateLimiting({
        perUserPerMinute: env.RATE_LIMIT_PER_USER_PER_MINUTE,
        perAnonymousIpPerMinute: env.RATE_LIMIT_PER_IP_PER_MINUTE || Number.MAX_SAFE_INTEGER,
        redisUrl: env.REDIS_URL,
        keyPrefix: env.REDIS_KEY_PREFIX,
        logger,
      })
    : undefined;
logger.info(
  limits
    ? `Rate limits: ${env.RATE_LIMIT_PER_USER_PER_MINUTE}/min per user, ${env.RATE_LIMIT_PER_IP_PER_MINUTE}/min per IP, ${env.REDIS_URL ? "shared through Redis" : "per process (no REDIS_URL)"}`
    : "Rate limits: off",
);

// Live updates: the streams of this instance, woken by one listening connection (a direct one:
// LISTEN holds a session, which a transaction-mode pooler such as Neon's does not keep).
const live = new LiveHub({
  perUser: env.LIVE_STREAMS_PER_USER,
  perInstance: env.LIVE_STREAMS_PER_INSTANCE,
});
const listener = listenForChanges({
  url: (env.DATABASE_URL && env.DIRECT_URL) || database.url,
  hub: live,
  logger,
});

let shuttingDown = false;
const eventStreams = new Set<Response>();
const app = createApp({
  db: handle.db,
  verifier,
  logger,
  rateLimit: limits?.middleware,
  corsOrigins: env.CORS_ORIGINS,
  requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
  isShuttingDown: () => shuttingDown,
  metrics: createMetrics({
    pool: handle.pool,
    token: env.METRICS_TOKEN,
    restPaths: REST_ROUTES.map((route) => route.path),
    live: {
      open: () => live.open,
      onFanOut: (observe) => {
        live.onFanOut = observe;
      },
    },
  }),
  live,
  eventStreams,
});
if (env.TRUST_PROXY) {
  const hops = Number(env.TRUST_PROXY);
  app.set("trust proxy", Number.isInteger(hops) ? hops : env.TRUST_PROXY);
}

const housekeeping = startHousekeeping({
  db: handle.db,
  logger,
  retentionDays: env.TOMBSTONE_RETENTION_DAYS,
  intervalMs: env.PURGE_INTERVAL_MINUTES * 60_000,
});

const server = createServer(app);
answerClientErrors(server, logger);
// Slow or stalled clients cannot hold connections open for long.
server.headersTimeout = 10_000;
server.requestTimeout = 30_000;
// Node's default (5 s) closes idle connections before a load balancer does (60 s on most), which
// then sends a request into a closing socket (502); clients that pause for 5 s reconnect each time.
server.keepAliveTimeout = env.KEEP_ALIVE_TIMEOUT_MS;
server.listen(env.PORT, env.HOST, () => {
  const { port } = server.address() as AddressInfo;
  const host = env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
  logger.info(`Listening on http://${host}:${port} (tRPC at /trpc, REST at /api)`);
  if (env.NODE_ENV !== "production" && env.verifiers.includes("hs256")) {
    const dataDir = env.DATA_DIR === ".data" ? "" : `DATA_DIR=${env.DATA_DIR} `;
    logger.info(
      `Get a development token with: ${dataDir}pnpm -s run token <user-id> (without pnpm: ${dataDir}npx -y pnpm@10 -s run token <user-id>)`,
    );
  }
});
server.on("error", (error) => {
  logger.fatal({ err: error }, "HTTP server failed");
  process.exit(1);
});

/**
 * SIGTERM: readiness turns 503 (load balancers stop sending), then the server stops accepting,
 * in-flight requests finish, the pool closes, exit 0; past SHUTDOWN_TIMEOUT_MS, exit 1.
 */
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info(`${signal}: readiness now 503; stopping in ${env.SHUTDOWN_DRAIN_MS} ms`);
  const force = setTimeout(() => {
    logger.error("In-flight requests did not finish in time; exiting");
    process.exit(1);
  }, env.SHUTDOWN_DRAIN_MS + env.SHUTDOWN_TIMEOUT_MS);
  force.unref();
  await sleep(env.SHUTDOWN_DRAIN_MS);
  // Streams end now, with a hint to reconnect (elsewhere); the server then stops accepting, and
  // a moment later closes what stream connections clients still hold open.
  live.shutdown();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // close() ends the connections idle at that moment; one whose request was still in flight goes
  // idle (kept alive) once answered and would hold the process until the deadline: end each then.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  await sleep(STREAM_CLOSE_GRACE_MS);
  for (const res of eventStreams) res.destroy();
  await closed;
  clearInterval(sweep);
  await listener.stop();
  await limits?.close();
  await housekeeping.stop();
  await handle.close();
  await database.stop?.();
  logger.info("Stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
