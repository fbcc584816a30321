// The only module that reads process.env: parsed and validated once, at start-up.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { JWKS_ALGORITHMS } from "@todo/api/auth/jwks";
import { TOMBSTONE_RETENTION_DAYS_DEFAULT } from "@todo/api/housekeeping";
import { z } from "zod";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");

const postgresUrl = z
  .url({ message: "must be a URL" })
  .refine((u) => /^postgres(ql)?:\/\//.test(u), "must start with postgresql:// or postgres://");

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpUrl = z
  .url({ message: "must be a URL" })
  .refine((u) => /^https?:\/\//.test(u), "must start with http:// or https://")
  .transform((u) => u.replace(/\/+$/, ""));

/** A comma-separated list, each item checked by `item`. */
const list = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(",").map((part) => part.trim()))
    .pipe(z.array(item).min(1, "must list at least one value"));

export const VERIFIER_KINDS = ["hs256", "jwks"] as const;

const zEnv = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().min(1).optional(),
  PORT: int(0, 65_535).default(3000),
  /** Pooled URL for the app (Neon: the `-pooler` host). Absent: an embedded PostgreSQL. */
  DATABASE_URL: postgresUrl.optional(),
  /** Direct (unpooled) URL, for what needs a session: migrations, and the live listener. */
  DIRECT_URL: postgresUrl.optional(),
  /** The instance's database connections (with WEB_CONCURRENCY, shared among its processes). */
  DATABASE_POOL_MAX: int(1, 200).default(10),
  /** Server processes sharing the port (node:cluster); more than one needs DATABASE_URL. */
  WEB_CONCURRENCY: int(1, 64).default(1),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  DATABASE_POOL_IDLE_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  /** Better Auth's shared secret; HS256 tokens are verified with it. */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Better Auth's base URL: its JWKS is at /api/auth/jwks, and it is the tokens' iss and aud. */
  BETTER_AUTH_URL: httpUrl.optional(),
  BETTER_AUTH_JWKS_URL: httpUrl.optional(),
  /** Which verifiers are active; by default those whose settings are present. */
  AUTH_VERIFIERS: list(z.enum(VERIFIER_KINDS)).optional(),
  /** The algorithms accepted from the JWKS (Better Auth signs with EdDSA by default). */
  JWT_ALGORITHMS: list(z.enum(JWKS_ALGORITHMS)).default(["EdDSA"]),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_SKEW_SECONDS: int(0, 300).default(5),
  /** A token naming an unknown key refetches the JWKS at most this often. */
  JWKS_REFETCH_COOLDOWN_MS: int(0, 3_600_000).default(30_000),
  /** Shared store for rate limits across server processes; without it, limits are per process. */
  REDIS_URL: z
    .url({ message: "must be a URL" })
    .refine((u) => /^rediss?:\/\//.test(u), "must start with redis:// or rediss://")
    .optional(),
  REDIS_KEY_PREFIX: z.string().min(1).default("todo"),
  /** Requests per minute per user (per IP without a valid token); 0 turns limiting off. */
  RATE_LIMIT_PER_USER_PER_MINUTE: int(0, 1_000_000).default(600),
  RATE_LIMIT_PER_IP_PER_MINUTE: int(0, 1_000_000).default(120),
  /** Browser origins allowed by CORS, comma-separated; none by default. */
  CORS_ORIGINS: list(z.url({ message: "must be an origin URL" })).optional(),
  /** Express "trust proxy" (e.g. 1, loopback): needed behind a load balancer for per-IP limits. */
  TRUST_PROXY: z.string().min(1).optional(),
  /** Every request is answered within this (503 past it). */
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(15_000),
  /** Idle keep-alive connections are kept this long: above a load balancer's idle timeout (60 s). */
  KEEP_ALIVE_TIMEOUT_MS: int(1_000, 600_000).default(65_000),
  /** After SIGTERM, how long readiness says 503 before the server stops accepting. */
  SHUTDOWN_DRAIN_MS: int(0, 120_000).optional(),
  /** After SIGTERM, the bound on finishing in-flight requests before a forced exit. */
  SHUTDOWN_TIMEOUT_MS: int(1_000, 600_000).default(10_000),
  /** How long a deleted task stays in the change feed as a tombstone before it is purged. */
  TOMBSTONE_RETENTION_DAYS: int(1, 3_650).default(TOMBSTONE_RETENTION_DAYS_DEFAULT),
  /** How often expired tombstones and Idempotency-Key answers are purged. */
  PURGE_INTERVAL_MINUTES: int(1, 1_440).default(60),
  /** Live update streams one user may hold open on one instance, and the instance in all. */
  LIVE_STREAMS_PER_USER: int(1, 1_000).default(10),
  LIVE_STREAMS_PER_INSTANCE: int(1, 1_000_000).default(5_000),
  /** When set, /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** Where the embedded database and the generated development secret live. */
  DATA_DIR: z.string().min(1).default(join(repoRoot, ".data")),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type JwksConfig = { url: URL; issuer: string; audience: string };

export type Env = Omit<z.infer<typeof zEnv>, "HOST" | "AUTH_VERIFIERS" | "SHUTDOWN_DRAIN_MS"> & {
  HOST: string;
  SHUTDOWN_DRAIN_MS: number;
  /** Active token verifiers. hs256 without BETTER_AUTH_SECRET uses the development secret. */
  verifiers: ReadonlyArray<(typeof VERIFIER_KINDS)[number]>;
  jwks: JwksConfig | undefined;
};

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/** The runtime mode alone, for commands that must refuse in production before anything else. */
export function isProduction(source: NodeJS.ProcessEnv = process.env): boolean {
  return source.NODE_ENV === "production";
}

/** Parses the environment; every missing or bad value is reported at once. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // An empty variable (`DATABASE_URL=` in a .env file) means "not set".
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ""));
  const parsed = zEnv.safeParse(present);
  if (!parsed.success) {
    throw new EnvError(
      parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
    );
  }
  const { AUTH_VERIFIERS, ...env } = parsed.data;
  const production = env.NODE_ENV === "production";
  const problems: string[] = [];
  if (production && !env.DATABASE_URL) problems.push("DATABASE_URL: required in production");
  if (env.WEB_CONCURRENCY > 1 && !env.DATABASE_URL) {
    problems.push(
      "WEB_CONCURRENCY: more than one process needs DATABASE_URL (the embedded database lives in one process)",
    );
  }

  const jwksUrl =
    env.BETTER_AUTH_JWKS_URL ?? (env.BETTER_AUTH_URL && `${env.BETTER_AUTH_URL}/api/auth/jwks`);
  // By default: the shared secret when there is one (or in development, with a generated one),
  // and the JWKS when Better Auth's address is known.
  const verifiers = AUTH_VERIFIERS ?? [
    ...(env.BETTER_AUTH_SECRET || !production ? (["hs256"] as const) : []),
    ...(jwksUrl ? (["jwks"] as const) : []),
  ];
  if (verifiers.length === 0) {
    problems.push("BETTER_AUTH_SECRET or BETTER_AUTH_URL: production needs a way to verify tokens");
  }
  if (production && verifiers.includes("hs256") && !env.BETTER_AUTH_SECRET) {
    problems.push("BETTER_AUTH_SECRET: required in production for the hs256 verifier");
  }
  let jwks: JwksConfig | undefined;
  if (verifiers.includes("jwks")) {
    // Better Auth's jwt plugin sets both to the origin of its base URL unless told otherwise.
    const origin = env.BETTER_AUTH_URL && new URL(env.BETTER_AUTH_URL).origin;
    const issuer = env.JWT_ISSUER ?? origin;
    const audience = env.JWT_AUDIENCE ?? origin;
    if (!jwksUrl)
      problems.push("BETTER_AUTH_URL or BETTER_AUTH_JWKS_URL: needed by the jwks verifier");
    if (!issuer || !audience) {
      problems.push(
        "JWT_ISSUER and JWT_AUDIENCE (or BETTER_AUTH_URL): needed by the jwks verifier",
      );
    }
    if (jwksUrl && issuer && audience) jwks = { url: new URL(jwksUrl), issuer, audience };
  }
  if (problems.length > 0) throw new EnvError(problems);
  return {
    ...env,
    verifiers,
    jwks,
    // Load balancers need a moment to notice readiness failing; locally there is none to wait for.
    SHUTDOWN_DRAIN_MS: env.SHUTDOWN_DRAIN_MS ?? (production ? 3_000 : 0),
    // Loopback unless told otherwise, except in production (containers listen on all interfaces).
    HOST: env.HOST ?? (env.NODE_ENV === "production" ? "0.0.0.0" : "127.0.0.1"),
    DATA_DIR: resolve(env.DATA_DIR),
  };
}
