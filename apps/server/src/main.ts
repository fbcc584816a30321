// Start-up: configuration, database (embedded when no DATABASE_URL), HTTP server, shutdown.
import type { AddressInfo } from "node:net";
import { createDb } from "@todo/db/client";
import { pino } from "pino";
import { createApp } from "./app.ts";
import { createVerifier } from "./auth.ts";
import { loadOrCreateDevSecret } from "./dev-secret.ts";
import { type Env, EnvError, loadEnv } from "./env.ts";

let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = pino({ level: env.LOG_LEVEL, base: undefined });

async function resolveDatabase(): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL };
  // Loaded only here, so a server with a real database never loads PGlite or the migrator.
  const { startEmbeddedPostgres } = await import("./embedded-db.ts");
  const { deployMigrations } = await import("@todo/db/migrate");
  const started = Date.now();
  const embedded = await startEmbeddedPostgres(env.DATA_DIR);
  logger.info(`No DATABASE_URL: using the embedded PostgreSQL in ${embedded.dataPath}`);
  await deployMigrations(embedded.url);
  logger.info(`Embedded database ready and migrated in ${Date.now() - started} ms`);
  return { url: embedded.url, stop: embedded.stop };
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
const handle = createDb({
  url: database.url,
  poolMax: database.stop ? 4 : env.DATABASE_POOL_MAX,
  statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
});
const app = createApp({ db: handle.db, verifier, logger });

const server = app.listen(env.PORT, env.HOST, () => {
  const { port } = server.address() as AddressInfo;
  const host = env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
  logger.info(`Listening on http://${host}:${port} (tRPC at /trpc, REST at /api)`);
  if (env.NODE_ENV !== "production" && env.verifiers.includes("hs256")) {
    logger.info("Get a development token with: pnpm token <user-id>");
  }
});
server.on("error", (error) => {
  logger.fatal({ err: error }, "HTTP server failed");
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: finishing in-flight requests, then closing`);
  const force = setTimeout(() => {
    logger.error("Shutdown took too long; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await handle.close();
  await database.stop?.();
  logger.info("Stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
