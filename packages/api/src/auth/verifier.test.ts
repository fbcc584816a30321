import jwt from "jsonwebtoken";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.ts";
import { authenticate, createHs256Verifier, readBearer, signHs256Token } from "./verifier.ts";

const secret = "unit-test-secret-0123456789-abcdefghijklmnop";
const now = () => Math.floor(Date.now() / 1000);

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return (error as AppError).code;
}

describe("readBearer", () => {
  it.each([
    [undefined, "missing"],
    ["", "missing"],
    ["Bearer", "malformed"],
    ["Bearer ", "malformed"],
    ["Bearer a.b", "malformed"],
    ["Bearer a.b.c d", "malformed"],
    ["Token a.b.c", "malformed"],
    ["bEaReR a.b.c", "token"],
  ])("%j is %s", (header, kind) => {
    expect(readBearer(header).kind).toBe(kind);
  });
});

describe("HS256 verifier", () => {
  const verifier = createHs256Verifier({
    secret,
    issuer: "https://auth.example",
    audience: "todo-api",
    clockSkewSeconds: 5,
  });
  const sign = (claims: object, options: jwt.SignOptions = {}) =>
    jwt.sign(JSON.parse(JSON.stringify(claims)), secret, { algorithm: "HS256", ...options });
  const good = { sub: "u1", iss: "https://auth.example", aud: "todo-api", exp: now() + 60 };

  it("accepts a token with the configured issuer and audience", async () => {
    // expiresAt: the token's exp, in milliseconds (a live stream ends then).
    expect(await authenticate(verifier, `Bearer ${sign(good)}`)).toEqual({
      userId: "u1",
      expiresAt: good.exp * 1000,
    });
  });

  it.each([
    ["wrong issuer", { ...good, iss: "https://evil.example" }],
    ["no issuer", { ...good, iss: undefined }],
    ["wrong audience", { ...good, aud: "other-api" }],
    ["expired beyond skew", { ...good, exp: now() - 30 }],
    ["no expiry", { ...good, exp: undefined }],
    ["subject too long", { ...good, sub: "x".repeat(256) }],
  ])("refuses %s", async (_why, claims) => {
    expect(await refusal(authenticate(verifier, `Bearer ${sign(claims)}`))).toBe("UNAUTHORIZED");
  });

  it("signs development tokens the verifier accepts", async () => {
    const plain = createHs256Verifier({ secret, clockSkewSeconds: 0 });
    const token = signHs256Token({ secret, userId: "dev", expiresInSeconds: 60 });
    expect(await plain.verify(token)).toEqual({ userId: "dev", expiresAt: expect.any(Number) });
  });
});
