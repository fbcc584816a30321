import { combineVerifiers, createHs256Verifier, type TokenVerifier } from "@todo/api/auth";
import { createJwksVerifier } from "@todo/api/auth/jwks";
import type { Logger } from "pino";
import type { Env } from "./env.ts";

/** The token verifiers the configuration asks for, side by side. */
export function createVerifier(
  env: Env,
  options: { secret: string | undefined; logger: Logger },
): TokenVerifier {
  const verifiers: TokenVerifier[] = [];
  if (env.verifiers.includes("hs256")) {
    if (!options.secret) throw new Error("The hs256 verifier needs a secret");
    verifiers.push(
      createHs256Verifier({
        secret: options.secret,
        issuer: env.JWT_ISSUER,
        audience: env.JWT_AUDIENCE,
        clockSkewSeconds: env.JWT_CLOCK_SKEW_SECONDS,
      }),
    );
  }
  if (env.jwks) {
    verifiers.push(
      createJwksVerifier({
        jwksUrl: env.jwks.url,
        issuer: env.jwks.issuer,
        audience: env.jwks.audience,
        algorithms: env.JWT_ALGORITHMS,
        clockSkewSeconds: env.JWT_CLOCK_SKEW_SECONDS,
        refetchCooldownMs: env.JWKS_REFETCH_COOLDOWN_MS,
        onFetchError: (err) => options.logger.warn({ err }, "JWKS fetch failed; using cached keys"),
      }),
    );
  }
  return combineVerifiers(verifiers);
}
