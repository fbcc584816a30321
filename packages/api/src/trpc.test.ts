// The router protects itself: hosted by tRPC's own fetch adapter, with no Express in front of it,
// protectedProcedure verifies the token (once per request) and keeps every user to their own rows.
import { type OpenTestDatabase, openTestDatabase } from "@todo/db/testing";
import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizationHeaders } from "./auth/identity.ts";
import { createHs256Verifier, signHs256Token, type TokenVerifier } from "./auth/verifier.ts";
import { AppError, type AppErrorCode, ERROR_HTTP } from "./errors.ts";
import { appRouter, createCaller } from "./root.ts";
import { createContextInner, toTRPCError } from "./trpc.ts";

const SECRET = "api-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
let handle: OpenTestDatabase;
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
  handle = await openTestDatabase({ prefix: "todo_test_api", poolMax: 4 });
});
afterAll(() => handle.close());

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

describe("preconditions and the error table", () => {
  it("raises PRECONDITION_FAILED itself for a stale If-Match, and 400 when the input disagrees", async () => {
    const owner = user();
    const ctx = (ifMatch?: number) =>
      createContextInner({
        db: handle.db,
        verifier,
        credentials: { authorization: [owner.auth] },
        ifMatch,
      });
    const task = await createCaller(ctx()).task.create({ title: "t" });
    const stale = createCaller(ctx(task.version + 1));
    await expect(stale.task.update({ id: task.id, title: "u" })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
    });
    await expect(stale.task.toggle({ id: task.id })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
    });
    await expect(stale.task.delete({ id: task.id })).rejects.toMatchObject({
      code: "PRECONDITION_FAILED",
    });
    await expect(
      createCaller(ctx(task.version)).task.update({ id: task.id, title: "u", version: 7 }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    // The same stale version given in the input is a CONFLICT.
    await expect(
      createCaller(ctx()).task.update({ id: task.id, title: "u", version: task.version + 1 }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    const updated = await createCaller(ctx(task.version)).task.update({ id: task.id, title: "u" });
    expect(updated.version).toBe(task.version + 1);
  });

  it("agrees with the status tRPC itself puts on the wire, code by code", () => {
    for (const [code, rules] of Object.entries(ERROR_HTTP)) {
      if ("trpcCode" in rules) {
        // A code tRPC lacks (GONE) travels as the one the table names.
        expect(code in TRPC_ERROR_CODES_BY_KEY, code).toBe(false);
        expect(toTRPCError(new AppError(code as AppErrorCode, "m")).code).toBe(rules.trpcCode);
        continue;
      }
      const error = new TRPCError({ code: code as TRPCError["code"] });
      expect(getHTTPStatusCodeFromError(error), code).toBe(rules.status);
    }
  });
});
