// Starts the real app on a real socket against the test database, and speaks to it the way
// clients do: fetch for REST, @trpc/client for tRPC.
import type { AddressInfo } from "node:net";
import {
  combineVerifiers,
  createHs256Verifier,
  signHs256Token,
  type TokenVerifier,
} from "@todo/api/auth";
import { createJwksVerifier } from "@todo/api/auth/jwks";
import { LiveHub, type LiveLimits } from "@todo/api/live";
import type { AppRouter } from "@todo/api/router";
import { startTestIssuer, type TestIssuer } from "@todo/api/testing";
import { createDb, type Db, type DbOptions } from "@todo/db/client";
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import { EventSource } from "eventsource";
import type pg from "pg";
import { pino } from "pino";
import { inject } from "vitest";
import { type AppOptions, createApp } from "../src/app.ts";
import { EMBEDDED_DB_OPTIONS } from "../src/embedded-db.ts";
import { answerClientErrors } from "../src/http/client-error.ts";
import { listenForChanges } from "../src/live/listener.ts";
import { assertMatchesSpec } from "./support/contract.ts";

export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

export type TestServer = {
  baseUrl: string;
  /** The app's connection pool, to observe (idle connections closed, say). */
  pool: pg.Pool;
  /** The app's database client, for what a test runs beside the API (a purge, say). */
  db: Db;
  /** Its live streams, woken by its own listening connection. */
  live: LiveHub;
  /** The EdDSA/JWKS issuer this server trusts beside the shared secret. */
  issuer?: TestIssuer;
  close: () => Promise<void>;
};

/**
 * The app on a real socket. By default both verifiers are active: HS256 with TEST_SECRET, and
 * EdDSA from a test JWKS issuer; `verifier` replaces them.
 */
export async function startServer(
  options: {
    verifier?: TokenVerifier;
    /** More app options (rate limits, CORS, deadline, logger). */
    app?: Partial<AppOptions>;
    /** Another way to the test database (a faulty proxy) and its pool settings. */
    db?: Partial<DbOptions>;
    /** Live stream limits (defaults: 10 per user, 1,000 per instance). */
    liveLimits?: Partial<LiveLimits>;
  } = {},
): Promise<TestServer> {
  const handle = createDb({
    url: inject("databaseUrl"),
    poolMax: 5,
    ...(inject("databaseMode") === "embedded" ? EMBEDDED_DB_OPTIONS : {}),
    ...options.db,
  });
  let { verifier } = options;
  let issuer: TestIssuer | undefined;
  if (!verifier) {
    issuer = await startTestIssuer();
    verifier = testVerifier(issuer);
  }
  const url = options.db?.url ?? inject("databaseUrl");
  const live = new LiveHub({ perUser: 10, perInstance: 1_000, ...options.liveLimits });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const listener = listenForChanges({ url, hub: live, logger });
  await listener.ready;
  const app = createApp({
    db: handle.db,
    verifier,
    live,
    logger,
    ...options.app,
  });

  const server = app.listen(0, "127.0.0.1");
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pool: handle.pool,
    db: handle.db,
    live,
    issuer,
    close: async () => {
      live.shutdown();
      await listener.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handle.close();
      await issuer?.close();
    },
  };
}

function testVerifier(issuer: TestIssuer): TokenVerifier {
  return combineVerifiers([
    createHs256Verifier({ secret: TEST_SECRET, clockSkewSeconds: 5 }),
    createJwksVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.url,
      audience: issuer.url,
      algorithms: ["EdDSA"],
      clockSkewSeconds: 5,
    }),
  ]);
}

export type TestUser = { id: string; token: string; auth: string };

/** A user nobody else has: random id, valid HS256 token. */
export function newUser(): TestUser {
  const id = `user_${crypto.randomUUID()}`;
  const token = signHs256Token({ secret: TEST_SECRET, userId: id, expiresInSeconds: 600 });
  return { id, token, auth: `Bearer ${token}` };
}

/** The same, with an EdDSA token from the server's JWKS issuer (as Better Auth would sign). */
export async function newJwksUser(server: TestServer): Promise<TestUser> {
  if (!server.issuer) throw new Error("this server has no JWKS issuer");
  const id = `user_${crypto.randomUUID()}`;
  const token = await server.issuer.tokenFor(id);
  return { id, token, auth: `Bearer ${token}` };
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON under test; assertions check its shape
export type HttpResult = { status: number; headers: Headers; body: any };

/** One REST call; `body` as an object is sent as JSON, as a string it is sent as given. */
export async function rest(
  server: Pick<TestServer, "baseUrl">,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth !== undefined) headers.authorization = options.auth;
  let body: string | undefined;
  if (typeof options.body === "string") body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  const isJson = text && response.headers.get("content-type")?.includes("json");
  const parsed = isJson ? JSON.parse(text) : text;
  if (isJson) assertMatchesSpec(method, path, response.status, parsed);
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A typed tRPC client, as a frontend would make it. `auth` is the raw Authorization header. */
export function trpcClient(server: Pick<TestServer, "baseUrl">, auth?: string) {
  const url = `${server.baseUrl}/trpc`;
  const headers: Record<string, string> = auth === undefined ? {} : { authorization: auth };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // Subscriptions over SSE, with the header (the `eventsource` package takes a fetch).
        true: httpSubscriptionLink({
          url,
          EventSource,
          eventSourceOptions: () => ({
            fetch: (input, init) =>
              fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
          }),
        }),
        false: httpLink({ url, headers: () => headers }),
      }),
    ],
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON under test; assertions check its shape
export type Outcome = { status: number; code?: string; data?: any; issues?: unknown };

/** Runs a tRPC call and reports it as status and code, like a REST answer. */
export async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { status: 200, data: await call() };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as { httpStatus: number; code: string; issues?: unknown } | undefined;
    return { status: data?.httpStatus ?? 0, code: data?.code, issues: data?.issues };
  }
}

export const MISSING_ID = "00000000-0000-4000-8000-000000000000";
