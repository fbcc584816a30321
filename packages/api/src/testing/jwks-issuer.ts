// For tests: a token issuer like Better Auth's jwt plugin (EdDSA keys, a JWKS over HTTP on a
// loopback port), whose keys, availability and request count the test controls.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
export type SigningKey = { kid: string; pair: KeyPair; publicJwk: JWK };

export async function newSigningKey(alg = "EdDSA"): Promise<SigningKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const kid = crypto.randomUUID();
  return { kid, pair, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" } };
}

export type TestIssuer = {
  /** Base URL; also the tokens' `iss` and `aud`, as with Better Auth's defaults. */
  url: string;
  jwksUrl: URL;
  /** Keys published in the JWKS; the first one signs. */
  keys: SigningKey[];
  /** While false, the JWKS endpoint answers 503. */
  up: boolean;
  /** How many JWKS requests arrived. */
  fetches: number;
  sign(claims: JWTPayload, options?: { key?: SigningKey; header?: object }): Promise<string>;
  tokenFor(userId: string, expiresInSeconds?: number): Promise<string>;
  close(): Promise<void>;
};

export async function startTestIssuer(): Promise<TestIssuer> {
  let server: Server | undefined;
  const issuer: TestIssuer = {
    url: "",
    jwksUrl: new URL("http://127.0.0.1/"),
    keys: [await newSigningKey()],
    up: true,
    fetches: 0,
    async sign(claims, options = {}) {
      const key = options.key ?? issuer.keys[0];
      if (!key) throw new Error("no signing key");
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT", ...options.header })
        .sign(key.pair.privateKey);
    },
    tokenFor(userId, expiresInSeconds = 600) {
      const now = Math.floor(Date.now() / 1000);
      return issuer.sign({
        sub: userId,
        iss: issuer.url,
        aud: issuer.url,
        iat: now,
        exp: now + expiresInSeconds,
      });
    },
    close: () =>
      new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
  server = createServer((req, res) => {
    if (req.url !== "/api/auth/jwks") {
      res.writeHead(404).end();
      return;
    }
    issuer.fetches++;
    if (!issuer.up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: issuer.keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  issuer.url = `http://127.0.0.1:${port}`;
  issuer.jwksUrl = new URL(`${issuer.url}/api/auth/jwks`);
  return issuer;
}
