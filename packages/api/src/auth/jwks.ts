import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { LRUCache } from "lru-cache";
import { AppError } from "../errors.ts";
import { requireClaims, type TokenVerifier } from "./verifier.ts";

/** The signing algorithms Better Auth's jwt plugin can use. */
export const JWKS_ALGORITHMS = ["EdDSA", "ES256", "ES512", "PS256", "RS256"] as const;
export type JwksAlgorithm = (typeof JWKS_ALGORITHMS)[number];

export type JwksVerifierOptions = {
  /** Better Auth publishes its public keys at `<base URL>/api/auth/jwks`. */
  jwksUrl: URL;
  issuer: string;
  audience: string;
  /** Pinned by configuration; a token's own `alg` never widens it. */
  algorithms: readonly JwksAlgorithm[];
  clockSkewSeconds: number;
  /** A token naming an unknown key triggers a fetch at most this often. Default 30 s. */
  refetchCooldownMs?: number;
  /** Keys older than this are refreshed in the background, while still used. Default 10 min. */
  maxAgeMs?: number;
  /** Keys not refreshed for this long (the JWKS being down) are no longer trusted. Default 24 h. */
  maxStaleMs?: number;
  /** Default 5 s. */
  fetchTimeoutMs?: number;
  /** Told of every failed fetch (for logs); verification goes on with the cached keys. */
  onFetchError?: (error: unknown) => void;
  /** Verified tokens remembered until they expire (0: none). Default 10,000. */
  verifiedTokenCacheSize?: number;
};

type KeySet = { getKey: JWTVerifyGetKey; fetchedAt: number };

/**
 * The key cache policy jose's createRemoteJWKSet lacks: cached keys outlive a JWKS outage (up to
 * maxStale), a stale set is refreshed in the background instead of in the request, and the
 * cooldown counts failed fetches too, so neither a flood of random `kid`s nor a JWKS outage turns
 * into a flood of JWKS requests. Parsing and key selection are jose's (createLocalJWKSet).
 */
function createKeyCache(
  options: JwksVerifierOptions,
  onKeysChanged: () => void,
): { getKey: JWTVerifyGetKey; refreshIfOld: () => void } {
  const cooldown = options.refetchCooldownMs ?? 30_000;
  const maxAge = options.maxAgeMs ?? 600_000;
  const maxStale = options.maxStaleMs ?? 86_400_000;
  const timeout = options.fetchTimeoutMs ?? 5_000;
  let keys: KeySet | undefined;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const fetchKeys = async () => {
    lastAttempt = Date.now();
    try {
      const response = await fetch(options.jwksUrl, {
        headers: { accept: "application/jwk-set+json, application/json" },
        signal: AbortSignal.timeout(timeout),
      });
      if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
      const jwks = (await response.json()) as JSONWebKeySet;
      keys = { getKey: createLocalJWKSet(jwks), fetchedAt: Date.now() };
      onKeysChanged();
    } catch (error) {
      options.onFetchError?.(error);
    }
  };
  // One fetch at a time, and none within the cooldown of the last attempt, failed or not.
  const refresh = (): Promise<void> => {
    if (!inflight && Date.now() - lastAttempt >= cooldown) {
      inflight = fetchKeys().finally(() => {
        inflight = undefined;
      });
    }
    return inflight ?? Promise.resolve();
  };

  const refreshIfOld = () => {
    if (keys && Date.now() - keys.fetchedAt > maxAge) void refresh();
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (keys && Date.now() - keys.fetchedAt > maxStale) keys = undefined;
    if (!keys) await refresh();
    else refreshIfOld();
    const current = keys;
    // Our side cannot check any token right now: that is an outage, not the caller's fault.
    if (!current) throw new AppError("SERVICE_UNAVAILABLE", "Token keys are unavailable; retry");
    try {
      return await current.getKey(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // Perhaps a rotated key: look again, unless we just did.
      await refresh();
      if (!keys || keys === current) throw error;
      return keys.getKey(header, token);
    }
  };
  return { getKey, refreshIfOld };
}

/**
 * Asymmetric tokens (Better Auth's jwt plugin), verified with jose against a JWKS URL. An Ed25519
 * check costs ~100x an HMAC (bench/verify.ts), and a client sends the same token until it
 * expires, so verified tokens are remembered (keyed by the whole token, signature included) until
 * their `exp`, and forgotten whenever the key set is refetched (a key may have been withdrawn).
 */
export function createJwksVerifier(options: JwksVerifierOptions): TokenVerifier {
  const cacheSize = options.verifiedTokenCacheSize ?? 10_000;
  const verified =
    cacheSize > 0
      ? new LRUCache<string, { userId: string; exp: number }>({ max: cacheSize })
      : undefined;
  const keyCache = createKeyCache(options, () => verified?.clear());
  const verifyOptions = {
    algorithms: [...options.algorithms],
    issuer: options.issuer,
    audience: options.audience,
    clockTolerance: options.clockSkewSeconds,
    requiredClaims: ["exp", "sub"],
  };
  return {
    kind: "jwks",
    algorithms: options.algorithms,
    async verify(token) {
      const known = verified?.get(token);
      if (known && known.exp + options.clockSkewSeconds > Date.now() / 1000) {
        // Old keys are refreshed even when every token is a cache hit.
        keyCache.refreshIfOld();
        return { userId: known.userId, expiresAt: known.exp * 1000 };
      }
      try {
        const { payload } = await jwtVerify(token, keyCache.getKey, verifyOptions);
        const caller = requireClaims(payload);
        verified?.set(token, { userId: caller.userId, exp: payload.exp as number });
        return caller;
      } catch (error) {
        if (error instanceof AppError) throw error;
        if (error instanceof errors.JWTExpired) throw new AppError("UNAUTHORIZED", "Token expired");
        if (error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf") {
          throw new AppError("UNAUTHORIZED", "Token not yet valid");
        }
        throw new AppError("UNAUTHORIZED", "Invalid token");
      }
    },
  };
}
