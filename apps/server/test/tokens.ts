// Hostile and broken Authorization headers. Tokens are built by hand (not with a JWT library) so
// each can break exactly one rule.
import { createHmac } from "node:crypto";
import { newSigningKey, type TestIssuer } from "@todo/api/testing";
import { TEST_SECRET } from "./harness.ts";

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export function rawJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | null,
  hash: "sha256" | "sha384" | "sha512" = "sha256",
): string {
  const body = `${b64(header)}.${b64(payload)}`;
  if (secret === null) return `${body}.`;
  return `${body}.${createHmac(hash, secret).update(body).digest("base64url")}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** [description, Authorization header] pairs that must each be answered with 401. */
export function badAuthHeaders(userId: string): Array<[string, string]> {
  const hs = { alg: "HS256", typ: "JWT" };
  const good = { sub: userId, iat: now(), exp: now() + 600 };
  const valid = rawJwt(hs, good, TEST_SECRET);
  const [h, p, s] = valid.split(".");
  return [
    ["empty header value", ""],
    ["empty bearer", "Bearer "],
    ["scheme only", "Bearer"],
    ["token without scheme", valid],
    ["Basic scheme", "Basic dXNlcjpwYXNzd29yZA=="],
    ["garbage", "Bearer garbage"],
    ["two parts", `Bearer ${h}.${p}`],
    ["four parts", `Bearer ${valid}.${s}`],
    ["whitespace inside the token", `Bearer ${valid.slice(0, 12)} ${valid.slice(12)}`],
    ["wrong secret", `Bearer ${rawJwt(hs, good, "another-secret-0123456789-abcdefghijklmnop")}`],
    ["tampered payload", `Bearer ${h}.${b64({ ...good, sub: "someone-else" })}.${s}`],
    ["signature stripped", `Bearer ${h}.${p}.`],
    ...["none", "None", "NONE", "nOnE"].map((alg): [string, string] => [
      `alg ${alg}`,
      `Bearer ${rawJwt({ alg, typ: "JWT" }, good, null)}`,
    ]),
    ["alg none with a signature", `Bearer ${rawJwt({ alg: "none" }, good, TEST_SECRET)}`],
    [
      "HS384 (not the pinned algorithm)",
      `Bearer ${rawJwt({ alg: "HS384" }, good, TEST_SECRET, "sha384")}`,
    ],
    [
      "HS512 (not the pinned algorithm)",
      `Bearer ${rawJwt({ alg: "HS512" }, good, TEST_SECRET, "sha512")}`,
    ],
    ["RS256 header on an HMAC signature", `Bearer ${rawJwt({ alg: "RS256" }, good, TEST_SECRET)}`],
    ["expired", `Bearer ${rawJwt(hs, { ...good, exp: now() - 60 }, TEST_SECRET)}`],
    ["not yet valid (nbf)", `Bearer ${rawJwt(hs, { ...good, nbf: now() + 300 }, TEST_SECRET)}`],
    ["no exp", `Bearer ${rawJwt(hs, { sub: userId, iat: now() }, TEST_SECRET)}`],
    ["exp not a number", `Bearer ${rawJwt(hs, { ...good, exp: "never" }, TEST_SECRET)}`],
    ["no sub", `Bearer ${rawJwt(hs, { exp: now() + 600 }, TEST_SECRET)}`],
    ["numeric sub", `Bearer ${rawJwt(hs, { ...good, sub: 42 }, TEST_SECRET)}`],
    ["empty sub", `Bearer ${rawJwt(hs, { ...good, sub: "" }, TEST_SECRET)}`],
    ["payload not JSON", `Bearer ${h}.${Buffer.from("not json").toString("base64url")}.${s}`],
  ];
}

/** A token that expired 3 s ago: inside the documented 5 s clock skew, so still accepted. */
export function tokenWithinSkew(userId: string): string {
  return rawJwt({ alg: "HS256", typ: "JWT" }, { sub: userId, exp: now() - 3 }, TEST_SECRET);
}

/** Broken EdDSA tokens, as from Better Auth's jwt plugin or an impostor: each must be a 401. */
export async function badJwksAuthHeaders(
  issuer: TestIssuer,
  userId: string,
): Promise<Array<[string, string]>> {
  const good = { sub: userId, iss: issuer.url, aud: issuer.url, iat: now(), exp: now() + 600 };
  const sign = (claims: Record<string, unknown>, options?: Parameters<TestIssuer["sign"]>[1]) =>
    issuer.sign(JSON.parse(JSON.stringify(claims)), options).then((t) => `Bearer ${t}`);
  const signer = issuer.keys[0];
  if (!signer) throw new Error("issuer has no key");
  const impostor = await newSigningKey();
  const valid = await issuer.sign(good);
  const [h, p, s] = valid.split(".");
  const kid = signer.kid;
  return [
    ["another key pair under the issuer's kid", await sign(good, { key: { ...impostor, kid } })],
    ["another key pair with its own kid", await sign(good, { key: impostor })],
    ["tampered payload", `Bearer ${h}.${b64({ ...good, sub: "someone-else" })}.${s}`],
    ["signature stripped", `Bearer ${h}.${p}.`],
    ["alg none", `Bearer ${rawJwt({ alg: "none", kid }, good, null)}`],
    // Key confusion: HS256 keyed with the public key routes to the HS256 verifier, which refuses.
    [
      "HS256 signed with the public key",
      `Bearer ${rawJwt({ alg: "HS256", kid }, good, String(signer.publicJwk.x))}`,
    ],
    ["ES256 (not pinned) header", `Bearer ${b64({ alg: "ES256", kid })}.${p}.${s}`],
    ["RS256 (not pinned) header", `Bearer ${b64({ alg: "RS256", kid })}.${p}.${s}`],
    ["expired", await sign({ ...good, exp: now() - 60 })],
    ["not yet valid (nbf)", await sign({ ...good, nbf: now() + 300 })],
    ["no exp", await sign({ ...good, exp: undefined })],
    ["no sub", await sign({ ...good, sub: undefined })],
    ["numeric sub", await sign({ ...good, sub: 42 })],
    ["wrong issuer", await sign({ ...good, iss: "https://evil.example" })],
    ["no issuer", await sign({ ...good, iss: undefined })],
    ["wrong audience", await sign({ ...good, aud: "https://other.example" })],
  ];
}
