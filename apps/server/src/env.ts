// The only module that reads process.env: parsed and validated once, at start-up.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");

const postgresUrl = z
  .url({ message: "must be a URL" })
  .refine((u) => /^postgres(ql)?:\/\//.test(u), "must start with postgresql:// or postgres://");

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const zEnv = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: z.string().min(1).optional(),
  PORT: int(0, 65_535).default(3000),
  /** Pooled URL for the app (Neon: the `-pooler` host). Absent: an embedded PostgreSQL. */
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** Better Auth's shared secret; HS256 tokens are verified with it. */
  BETTER_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_SKEW_SECONDS: int(0, 300).default(5),
  /** Where the embedded database and the generated development secret live. */
  DATA_DIR: z.string().min(1).default(join(repoRoot, ".data")),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Env = Omit<z.infer<typeof zEnv>, "HOST"> & { HOST: string };

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
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
  const env = parsed.data;
  if (env.NODE_ENV === "production") {
    const problems: string[] = [];
    if (!env.DATABASE_URL) problems.push("DATABASE_URL: required in production");
    if (!env.BETTER_AUTH_SECRET) problems.push("BETTER_AUTH_SECRET: required in production");
    if (problems.length > 0) throw new EnvError(problems);
  }
  return {
    ...env,
    // Loopback unless told otherwise, except in production (containers listen on all interfaces).
    HOST: env.HOST ?? (env.NODE_ENV === "production" ? "0.0.0.0" : "127.0.0.1"),
    DATA_DIR: resolve(env.DATA_DIR),
  };
}
