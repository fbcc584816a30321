// The router protects itself: hosted by tRPC's own fetch adapter, with no Express in front of it,
// protectedProcedure verifies the token (once per request) and keeps every user to their own rows.
import { createDb, type DbHandle } from "@todo/db/client";
import { createTestDatabase, type TestDatabase } from "@todo/db/test-database";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationHeaders } from "./auth/identity.ts";
import { createHs256Verifier, signHs256Token, type TokenVerifier } from "./auth/verifier.ts";
import { appRouter } from "./root.ts";
import { createContextInner } from "./trpc.ts";

const SECRET = "api-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
let database: TestDatabase;
let handle: DbHandle;
let verifications = 0;
const verifier: TokenVerifier = (() => {
  const inner = createHs256Verifier({ secret: SECRET, clockSkewSeconds: 5 });
  return {
    ...inner,
    verify: (token: string) => {
      verifications++;
      return inner.verify(token);
    },
  };
})();

beforeAll(async () => {
  database = await createTestDatabase({ prefix: "todo_test_api", migrate: true });
  handle = createDb({ url: database.url, poolMax: 4 });
});
afterAll(async () => {
  await handle.close();
  await database.drop();
});

/** One HTTP request to the router through tRPC's fetch adapter. */
async function call(path: string, init: { auth?: string; body?: unknown; query?: string } = {}) {
  const headers = new Headers();
  if (init.auth !== undefined) headers.set("authorization", init.auth);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const req = new Request(`http://api.test/trpc/${path}${init.query ?? ""}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const res = await fetchRequestHandler({
    endpoint: "/trpc",
    req,
    router: appRouter,
    createContext: ({ req }) =>
      createContextInner({
        db: handle.db,
        verifier,
        credentials: { authorization: authorizationHeaders(req.headers.get("authorization")) },
      }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the JSON under test; assertions check its shape
  return { status: res.status, body: (await res.json()) as any };
}

const user = () => {
  const id = `user_${crypto.randomUUID()}`;
  const token = signHs256Token({ secret: SECRET, userId: id, expiresInSeconds: 600 });
  return { id, auth: `Bearer ${token}` };
};

describe("appRouter on tRPC's fetch adapter", () => {
  it("answers 401 without a token, and 400 for two of them", async () => {
    const none = await call("task.list");
    expect(none.status).toBe(401);
    expect(none.body.error.data.code).toBe("UNAUTHORIZED");
    const [a, b] = [user(), user()];
    // Fetch joins repeated headers with ", ".
    const two = await call("task.list", { auth: `${a.auth}, ${b.auth}` });
    expect(two.status).toBe(400);
    expect(two.body.error.message).toBe("Send exactly one Authorization header");
  });

  it("keeps each user to their own tasks", async () => {
    const [alice, bob] = [user(), user()];
    const created = await call("task.create", { auth: alice.auth, body: { title: "alice's" } });
    expect(created.status).toBe(200);
    const id = created.body.result.data.id as string;
    const bobList = await call("task.list", { auth: bob.auth });
    expect(bobList.body.result.data.items).toEqual([]);
    const bobGet = await call("task.byId", {
      auth: bob.auth,
      query: `?input=${encodeURIComponent(JSON.stringify({ id }))}`,
    });
    expect(bobGet.status).toBe(404);
    const aliceList = await call("task.list", { auth: alice.auth });
    expect(aliceList.body.result.data.items.map((t: { id: string }) => t.id)).toEqual([id]);
  });

  it("verifies a batch's token once, however many procedures it calls", async () => {
    const someone = user();
    const before = verifications;
    const batch = await call("task.list,task.stats,me", {
      auth: someone.auth,
      query: `?batch=1&input=${encodeURIComponent(JSON.stringify({}))}`,
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toHaveLength(3);
    expect(verifications - before).toBe(1);
  });
});
