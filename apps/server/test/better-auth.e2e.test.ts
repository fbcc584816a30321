// Against the real thing: a Better Auth instance (the better-auth package with its jwt plugin, on
// its own database, over HTTP) issues the tokens; the API is configured from the environment as in
// production (BETTER_AUTH_URL, jwks verifier only).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTestDatabase, type TestDatabase } from "@todo/db/testing";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";
import { decodeProtectedHeader } from "jose";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier } from "../src/auth.ts";
import { loadEnv } from "../src/env.ts";
import { rest, startServer, type TestServer, trpcClient } from "./harness.ts";

type BetterAuthServer = {
  url: string;
  auth: ReturnType<typeof makeAuth>;
  jwksRequests: number;
  close: () => Promise<void>;
};

type Options = { rotationInterval?: number; impersonate?: string };

function makeAuth(baseURL: string, pool: pg.Pool, options: Options) {
  const { rotationInterval, impersonate } = options;
  return betterAuth({
    baseURL,
    secret: `better-auth-secret-${crypto.randomUUID()}`,
    database: pool,
    emailAndPassword: { enabled: true },
    plugins: [
      jwt({
        ...(rotationInterval ? { jwks: { rotationInterval } } : {}),
        // Another instance claiming to be the first: only its keys differ.
        ...(impersonate ? { jwt: { issuer: impersonate, audience: impersonate } } : {}),
      }),
    ],
    telemetry: { enabled: false },
    logger: { disabled: true },
  });
}

/** Better Auth served over HTTP on a loopback port, its tables made by its own migrations. */
async function startBetterAuth(
  database: TestDatabase,
  options: Options = {},
): Promise<BetterAuthServer> {
  const pool = new pg.Pool({ connectionString: database.url, max: 4 });
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = makeAuth(url, pool, options);
  await (await getMigrations(auth.options)).runMigrations();
  const handler = toNodeHandler(auth);
  const instance: BetterAuthServer = {
    url,
    auth,
    jwksRequests: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
  server.on("request", (req, res) => {
    if (req.url === "/api/auth/jwks") instance.jwksRequests++;
    void handler(req, res);
  });
  return instance;
}

/** Signs up with email and password through Better Auth's HTTP API, then asks it for a JWT. */
async function signUp(ba: BetterAuthServer, name: string) {
  const signUpResponse = await fetch(`${ba.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ba.url },
    body: JSON.stringify({
      email: `${name}-${crypto.randomUUID()}@example.com`,
      password: "correct horse battery staple",
      name,
    }),
  });
  expect(signUpResponse.status).toBe(200);
  const { user } = (await signUpResponse.json()) as { user: { id: string } };
  const cookie = signUpResponse.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const getToken = async () => {
    const response = await fetch(`${ba.url}/api/auth/token`, { headers: { cookie } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  };
  return { userId: user.id, token: await getToken(), getToken };
}

const databases: TestDatabase[] = [];
let betterAuth1: BetterAuthServer;
let betterAuth2: BetterAuthServer;
let api: TestServer;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    databases.push(await createTestDatabase({ prefix: "todo_test_betterauth", migrate: false }));
  }
  betterAuth1 = await startBetterAuth(databases[0] as TestDatabase, { rotationInterval: 2 });
  betterAuth2 = await startBetterAuth(databases[1] as TestDatabase, {
    impersonate: betterAuth1.url,
  });
  const env = loadEnv({
    NODE_ENV: "production",
    DATABASE_URL: "postgresql://unused@127.0.0.1/unused",
    BETTER_AUTH_URL: betterAuth1.url,
    JWKS_REFETCH_COOLDOWN_MS: "200",
  });
  expect(env.verifiers).toEqual(["jwks"]);
  api = await startServer({
    verifier: createVerifier(env, { secret: undefined, logger: pino({ level: "silent" }) }),
  });
});

afterAll(async () => {
  await api?.close();
  await betterAuth1?.close();
  await betterAuth2?.close();
  for (const database of databases) await database.drop();
});

describe("with tokens from a running Better Auth", () => {
  it("a signed-up user creates and lists tasks over REST and tRPC", async () => {
    const alice = await signUp(betterAuth1, "alice");
    expect(decodeProtectedHeader(alice.token).alg).toBe("EdDSA");
    const auth = `Bearer ${alice.token}`;

    const created = await rest(api, "POST", `/api/${alice.userId}/tasks`, {
      auth,
      body: { title: "from REST" },
    });
    expect(created.status).toBe(201);
    const client = trpcClient(api, auth);
    await client.task.create.mutate({ title: "from tRPC" });
    expect((await client.me.query()).id).toBe(alice.userId);

    const listed = await rest(api, "GET", `/api/${alice.userId}/tasks?sort=title&order=asc`, {
      auth,
    });
    expect(listed.body.data.map((t: { title: string }) => t.title)).toEqual([
      "from REST",
      "from tRPC",
    ]);
    expect((await client.task.list.query()).items).toHaveLength(2);
  });

  it("refuses a token from another Better Auth instance (other keys) with 401", async () => {
    const mallory = await signUp(betterAuth2, "mallory");
    // Same iss and aud as the trusted instance: the signature is what gives it away.
    const claims = JSON.parse(
      Buffer.from(mallory.token.split(".")[1] ?? "", "base64url").toString(),
    );
    expect(claims).toMatchObject({ iss: betterAuth1.url, aud: betterAuth1.url });
    const auth = `Bearer ${mallory.token}`;
    expect((await rest(api, "GET", `/api/${mallory.userId}/tasks`, { auth })).status).toBe(401);
    await expect(trpcClient(api, auth).task.list.query()).rejects.toMatchObject({
      data: { code: "UNAUTHORIZED", httpStatus: 401 },
    });
  });

  it("refuses an expired token with 401", async () => {
    const bob = await signUp(betterAuth1, "bob");
    const { token } = await betterAuth1.auth.api.signJWT({
      body: { payload: { sub: bob.userId, exp: Math.floor(Date.now() / 1000) - 60 } },
    });
    const res = await rest(api, "GET", `/api/${bob.userId}/tasks`, { auth: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe("Token expired");
  });

  it("answers user A's token on user B's tasks with 403", async () => {
    const a = await signUp(betterAuth1, "a");
    const b = await signUp(betterAuth1, "b");
    const res = await rest(api, "GET", `/api/${b.userId}/tasks`, { auth: `Bearer ${a.token}` });
    expect(res.status).toBe(403);
  });

  it("keeps accepting tokens after Better Auth rotates its keys", async () => {
    const carol = await signUp(betterAuth1, "carol");
    const before = `Bearer ${carol.token}`;
    expect((await rest(api, "GET", `/api/${carol.userId}/tasks`, { auth: before })).status).toBe(
      200,
    );

    // rotationInterval is 2 s: the next token is signed with a new key.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const rotated = await carol.getToken();
    expect(decodeProtectedHeader(rotated).kid).not.toBe(decodeProtectedHeader(carol.token).kid);
    const fetchesBefore = betterAuth1.jwksRequests;
    const res = await rest(api, "GET", `/api/${carol.userId}/tasks`, { auth: `Bearer ${rotated}` });
    expect(res.status).toBe(200);
    expect(betterAuth1.jwksRequests).toBe(fetchesBefore + 1);
    // The old key is still published (grace period), so older tokens stay valid until they expire.
    expect((await rest(api, "GET", `/api/${carol.userId}/tasks`, { auth: before })).status).toBe(
      200,
    );
  });
});
