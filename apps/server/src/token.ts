// Prints a signed development token: pnpm -s run token <user-id> [--ttl <seconds>]
import { parseArgs } from "node:util";
import { signHs256Token } from "@todo/api/auth";
import { readDevSecret } from "./dev-secret.ts";
import { type Env, EnvError, isProduction, loadEnv } from "./env.ts";

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { ttl: { type: "string", default: "3600" } },
});
const userId = positionals[0];
if (!userId) fail("usage: pnpm -s run token <user-id> [--ttl <seconds>]");
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl < 1 || ttl > 30 * 24 * 3600) {
  fail("--ttl must be a whole number of seconds, at most 30 days");
}

// Refused first: in production the remedy is Better Auth, not any other setting.
if (isProduction()) fail("Refusing to mint tokens in production.");
let env: Env;
try {
  env = loadEnv();
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  fail(error.message);
}
const secret = env.BETTER_AUTH_SECRET ?? (await readDevSecret(env.DATA_DIR));
if (!secret) {
  fail(
    `No secret: set BETTER_AUTH_SECRET, or start the server once (pnpm start) to create the development secret in ${env.DATA_DIR}.`,
  );
}

process.stdout.write(
  `${signHs256Token({
    secret,
    userId,
    expiresInSeconds: ttl,
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
  })}\n`,
);
