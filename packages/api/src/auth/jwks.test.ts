// The JWKS verifier against a real JWKS over HTTP: key caching, rotation, bounded refetching and
// outages.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { newSigningKey, startTestIssuer, type TestIssuer } from "../testing/jwks-issuer.ts";
import { createJwksVerifier, type JwksVerifierOptions } from "./jwks.ts";
import type { TokenVerifier } from "./verifier.ts";

let issuer: TestIssuer;
beforeEach(async () => {
  issuer = await startTestIssuer();
});
afterEach(() => issuer.close());

function verifierFor(options: Partial<JwksVerifierOptions> = {}): TokenVerifier {
  return createJwksVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.url,
    audience: issuer.url,
    algorithms: ["EdDSA"],
    clockSkewSeconds: 5,
    ...options,
  });
}

async function codeOf(result: unknown) {
  try {
    await result;
    return "OK";
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).code;
  }
}

describe("JWKS verifier", () => {
  it("verifies EdDSA tokens and fetches the keys once", async () => {
    const verifier = verifierFor();
    for (const user of ["a", "b", "c"]) {
      expect(await verifier.verify(await issuer.tokenFor(user))).toEqual({
        userId: user,
        expiresAt: expect.any(Number),
      });
    }
    expect(issuer.fetches).toBe(1);
  });

  it("turns a flood of unknown key ids into at most one JWKS request per cooldown", async () => {
    const verifier = verifierFor({ refetchCooldownMs: 60_000 });
    await verifier.verify(await issuer.tokenFor("warm-up"));
    const stranger = await newSigningKey();
    const now = Math.floor(Date.now() / 1000);
    const forged = await Promise.all(
      Array.from({ length: 200 }, () =>
        issuer.sign(
          { sub: "x", iss: issuer.url, aud: issuer.url, exp: now + 60 },
          { key: { ...stranger, kid: crypto.randomUUID() } },
        ),
      ),
    );
    for (const token of forged) expect(await codeOf(verifier.verify(token))).toBe("UNAUTHORIZED");
    // The first unknown kid may look again; every later one is inside the cooldown.
    expect(issuer.fetches).toBeLessThanOrEqual(2);
  });

  it("picks up a rotated key once the cooldown has passed", async () => {
    const verifier = verifierFor({ refetchCooldownMs: 50 });
    await verifier.verify(await issuer.tokenFor("before"));
    issuer.keys.unshift(await newSigningKey());
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await verifier.verify(await issuer.tokenFor("after"))).toEqual({
      userId: "after",
      expiresAt: expect.any(Number),
    });
    expect(issuer.fetches).toBe(2);
  });

  it("keeps serving cached keys through a JWKS outage, and refreshes in the background", async () => {
    const verifier = verifierFor({ maxAgeMs: 0, refetchCooldownMs: 0 });
    await verifier.verify(await issuer.tokenFor("before"));
    issuer.up = false;
    for (let i = 0; i < 5; i++) {
      expect(await verifier.verify(await issuer.tokenFor(`during-${i}`))).toEqual({
        userId: `during-${i}`,
        expiresAt: expect.any(Number),
      });
    }
    expect(issuer.fetches).toBeGreaterThan(1);
  });

  it("answers 503, not 401, when it has never been able to fetch keys", async () => {
    issuer.up = false;
    const verifier = verifierFor({ refetchCooldownMs: 60_000 });
    const token = await issuer.tokenFor("u");
    expect(await codeOf(verifier.verify(token))).toBe("SERVICE_UNAVAILABLE");
    expect(await codeOf(verifier.verify(token))).toBe("SERVICE_UNAVAILABLE");
    expect(issuer.fetches).toBe(1);
  });

  it("stops trusting keys it could not refresh for longer than maxStale", async () => {
    const verifier = verifierFor({ maxStaleMs: 30, refetchCooldownMs: 0 });
    await verifier.verify(await issuer.tokenFor("before"));
    issuer.up = false;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await codeOf(verifier.verify(await issuer.tokenFor("after")))).toBe(
      "SERVICE_UNAVAILABLE",
    );
  });

  it.each([
    ["expired", { exp: -60 }, "Token expired"],
    ["not yet valid", { nbf: 300 }, "Token not yet valid"],
    ["wrong issuer", { iss: "https://evil.example" }, "Invalid token"],
    ["wrong audience", { aud: "https://other.example" }, "Invalid token"],
    ["no expiry", { exp: undefined }, "Invalid token"],
    ["no subject", { sub: undefined }, "Invalid token"],
  ])("refuses a token with %s", async (_why, change, message) => {
    const verifier = verifierFor();
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      sub: "u",
      iss: issuer.url,
      aud: issuer.url,
      exp: now + 60,
    };
    for (const [k, v] of Object.entries(change)) {
      claims[k] = typeof v === "number" ? now + v : v;
    }
    const token = await issuer.sign(JSON.parse(JSON.stringify(claims)));
    await expect(verifier.verify(token)).rejects.toThrow(message);
  });

  it("refuses an algorithm outside the pinned list even with a valid signature", async () => {
    const es256 = await newSigningKey("ES256");
    issuer.keys.push(es256);
    const verifier = verifierFor();
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.sign(
      { sub: "u", iss: issuer.url, aud: issuer.url, exp: now + 60 },
      { key: es256, header: { alg: "ES256" } },
    );
    await expect(verifier.verify(token)).rejects.toThrow("Invalid token");
  });

  it("remembers a verified token only until it expires", async () => {
    const verifier = verifierFor({ clockSkewSeconds: 0 });
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.sign({ sub: "u", iss: issuer.url, aud: issuer.url, exp: now + 1 });
    expect(await verifier.verify(token)).toEqual({ userId: "u", expiresAt: expect.any(Number) });
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(verifier.verify(token)).rejects.toThrow("Token expired");
  });

  it("forgets verified tokens when a refetch withdraws their key", async () => {
    const verifier = verifierFor({ maxAgeMs: 20, refetchCooldownMs: 0 });
    const token = await issuer.tokenFor("u");
    expect(await verifier.verify(token)).toEqual({ userId: "u", expiresAt: expect.any(Number) });
    // The issuer withdraws the key (compromised) and publishes a new one.
    issuer.keys = [await newSigningKey()];
    await new Promise((resolve) => setTimeout(resolve, 30));
    // This call is still a cache hit, but starts the background refresh of the old key set...
    await verifier.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // ...after which the token is checked again, and its key is gone.
    expect(await codeOf(verifier.verify(token))).toBe("UNAUTHORIZED");
  });
});
