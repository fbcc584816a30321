import { createSecretKey } from "node:crypto";
import jwt from "jsonwebtoken";
import { AppError } from "../errors.ts";

/** What a verified token tells the API: only who the caller is. */
/** A verified token: its subject, and when it expires (ms since the epoch; a stream ends then). */
export type VerifiedToken = { userId: string; expiresAt: number };

/**
 * One kind of token verification (shared-secret HS256 today; a JWKS verifier can sit beside it).
 * Implementations throw AppError("UNAUTHORIZED") for every token they refuse.
 */
export type TokenVerifier = {
  readonly kind: string;
  /** The `alg` values this verifier accepts, fixed by configuration. */
  readonly algorithms: readonly string[];
  verify(token: string): VerifiedToken | Promise<VerifiedToken>;
};

export type Hs256VerifierOptions = {
  secret: string;
  issuer?: string;
  audience?: string;
  /** Seconds of leeway for `exp` and `nbf`, for clocks that disagree slightly. */
  clockSkewSeconds: number;
};

/** Longest user id the database stores (users.id is VARCHAR(255)). */
const MAX_SUBJECT_LENGTH = 255;

const unauthorized = (message: string) => new AppError("UNAUTHORIZED", message);

/** The 401 message for a request without credentials (RFC 6750: no `error` in the challenge). */
export const MISSING_TOKEN_MESSAGE = "Missing bearer token";

/** Checks the claims every verifier requires, whatever signed the token. */
export function requireClaims(payload: unknown): VerifiedToken {
  if (typeof payload !== "object" || payload === null) throw unauthorized("Invalid token");
  const { exp, sub } = payload as { exp?: unknown; sub?: unknown };
  // A token without `exp` would never expire: refuse it.
  if (typeof exp !== "number") throw unauthorized("Token has no expiry");
  if (typeof sub !== "string" || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
    throw unauthorized("Token has no valid subject");
  }
  return { userId: sub, expiresAt: exp * 1000 };
}

/** HS256 with a shared secret (Better Auth's secret), verified with jsonwebtoken. */
export function createHs256Verifier(options: Hs256VerifierOptions): TokenVerifier {
  // A KeyObject made once: given the secret as a string, jsonwebtoken first tries to parse it as
  // a public key on every call, which made each verification ~50x slower (bench/verify.ts).
  const key = createSecretKey(Buffer.from(options.secret, "utf8"));
  const verifyOptions: jwt.VerifyOptions & { complete?: false } = {
    // Pinned: the token's own `alg` header is never trusted (RFC 8725 §3.1).
    algorithms: ["HS256"],
    clockTolerance: options.clockSkewSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  return {
    kind: "hs256",
    algorithms: ["HS256"],
    verify(token) {
      let payload: unknown;
      try {
        payload = jwt.verify(token, key, verifyOptions);
      } catch (error) {
        if (error instanceof jwt.TokenExpiredError) throw unauthorized("Token expired");
        if (error instanceof jwt.NotBeforeError) throw unauthorized("Token not yet valid");
        throw unauthorized("Invalid token");
      }
      return requireClaims(payload);
    },
  };
}

/**
 * Several verifiers side by side (shared secret and JWKS): the token's `alg` picks the one whose
 * configured algorithms include it, and that one verifies it with its own pinned list. An `alg`
 * no verifier accepts (`none` included) is refused before any key is looked at.
 */
export function combineVerifiers(verifiers: readonly TokenVerifier[]): TokenVerifier {
  if (verifiers.length === 1 && verifiers[0]) return verifiers[0];
  const byAlgorithm = new Map<string, TokenVerifier>();
  for (const verifier of verifiers) {
    for (const alg of verifier.algorithms) {
      if (byAlgorithm.has(alg)) throw new Error(`Two token verifiers accept ${alg}`);
      byAlgorithm.set(alg, verifier);
    }
  }
  return {
    kind: verifiers.map((v) => v.kind).join("+"),
    algorithms: [...byAlgorithm.keys()],
    verify(token) {
      const verifier = byAlgorithm.get(headerAlgorithm(token));
      if (!verifier) throw unauthorized("Unsupported token algorithm");
      return verifier.verify(token);
    },
  };
}

function headerAlgorithm(token: string): string {
  try {
    const header: unknown = JSON.parse(
      Buffer.from(token.split(".")[0] ?? "", "base64url").toString(),
    );
    const alg = (header as { alg?: unknown } | null)?.alg;
    if (typeof alg === "string") return alg;
  } catch {
    // fall through: not a JSON header
  }
  throw unauthorized("Invalid token");
}

export type SignOptions = {
  secret: string;
  userId: string;
  expiresInSeconds: number;
  issuer?: string;
  audience?: string;
};

/** Signs an HS256 token as Better Auth's shared-secret set-up would; for development and tests. */
export function signHs256Token(options: SignOptions): string {
  return jwt.sign({}, options.secret, {
    algorithm: "HS256",
    subject: options.userId,
    expiresIn: options.expiresInSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  });
}

// RFC 6750 §2.1: b64token characters only, so whitespace or anything else inside is refused.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export type BearerResult =
  | { kind: "missing" }
  | { kind: "malformed" }
  | { kind: "token"; token: string };

/** Reads the `Authorization` header; the scheme name is case-insensitive. */
export function readBearer(header: string | undefined): BearerResult {
  if (header === undefined || header === "") return { kind: "missing" };
  const match = BEARER.exec(header);
  const token = match?.[1];
  if (token?.split(".").length !== 3) return { kind: "malformed" };
  return { kind: "token", token };
}

/** Turns an Authorization header into a caller, or the 401 to answer with. */
export async function authenticate(
  verifier: TokenVerifier,
  header: string | undefined,
): Promise<VerifiedToken> {
  const bearer = readBearer(header);
  if (bearer.kind === "missing") throw unauthorized(MISSING_TOKEN_MESSAGE);
  if (bearer.kind === "malformed") throw unauthorized("Malformed bearer token");
  return verifier.verify(bearer.token);
}
