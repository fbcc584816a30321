// The same cases for every REST route and tRPC procedure: happy path, validation error, no token,
// each kind of bad token, and another user's resource.
import { request } from "node:http";
import { createHs256Verifier, type TokenVerifier } from "@todo/api/auth";
import { appRouter } from "@todo/api/router";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimiting } from "../src/http/rate-limit.ts";
import { REST_ROUTES, routeName } from "../src/rest/routes.ts";
import { type Endpoint, restEndpoints, type Target, trpcEndpoints } from "./endpoints.ts";
import {
  MISSING_ID,
  newJwksUser,
  newUser,
  rest,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestUser,
} from "./harness.ts";
import { badAuthHeaders, badJwksAuthHeaders } from "./tokens.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Each active token verifier, with how it mints a good token and which bad ones it must refuse. */
const verifierKinds = [
  {
    kind: "HS256 shared secret",
    newUser: async () => newUser(),
    badHeaders: async (user: TestUser) => badAuthHeaders(user.id),
  },
  {
    kind: "EdDSA from JWKS",
    newUser: () => newJwksUser(server),
    badHeaders: (user: TestUser) => badJwksAuthHeaders(server.issuer as never, user.id),
  },
];
type VerifierKind = (typeof verifierKinds)[number];

/** A user with a list of their own, and a task in it with a label. */
async function userWithTask(kind: VerifierKind): Promise<{ user: TestUser; target: Target }> {
  const user = await kind.newUser();
  const list = await rest(server, "POST", `/api/${user.id}/lists`, {
    auth: user.auth,
    body: { name: "private list" },
  });
  expect(list.status).toBe(201);
  const created = await rest(server, "POST", `/api/${user.id}/tasks`, {
    auth: user.auth,
    body: {
      title: "owned",
      description: "private notes",
      listId: list.body.data.id,
      labels: ["private-label"],
    },
  });
  expect(created.status).toBe(201);
  return {
    user,
    target: { userId: user.id, taskId: created.body.data.id, listId: list.body.data.id },
  };
}

/** The owner's task and list as they stand. */
async function readTask(user: TestUser, target: Target) {
  const read = (path: string) => rest(server, "GET", path, { auth: user.auth });
  return {
    task: (await read(`/api/${user.id}/tasks/${target.taskId}`)).body,
    list: (await read(`/api/${user.id}/lists/${target.listId}`)).body,
  };
}

function withoutRequestId(body: { meta?: object }) {
  return { ...body, meta: { ...body.meta, requestId: "<id>" } };
}

describe.each(verifierKinds)("$kind", (kind) => {
  describe.each([...restEndpoints, ...trpcEndpoints])("$name", (endpoint: Endpoint) => {
    it("succeeds for the owner", async () => {
      const { user, target } = await userWithTask(kind);
      const result = await endpoint.call(server, user.auth, target);
      expect(result.status).toBe(endpoint.success);
    });

    const invalid = endpoint.invalid;
    // Endpoints that take no input (stats, me) have no invalid form.
    if (invalid) {
      it("answers invalid input with 400 and the field issues", async () => {
        const { user, target } = await userWithTask(kind);
        const result = await invalid(server, user.auth, target);
        expect(result.status).toBe(400);
        expect(result.code).toBe("BAD_REQUEST");
        expect(result.issues).toBeDefined();
      });
    }

    it("answers a missing token with 401", async () => {
      const { target } = await userWithTask(kind);
      const result = await endpoint.call(server, undefined, target);
      expect(result.status).toBe(401);
      expect(result.code).toBe("UNAUTHORIZED");
    });

    it("answers every bad token with 401 and a Bearer challenge, then serves a good one", async () => {
      const { user, target } = await userWithTask(kind);
      for (const [why, header] of await kind.badHeaders(user)) {
        const result = await endpoint.call(server, header, target);
        expect(result.status, why).toBe(401);
        expect(result.code, why).toBe("UNAUTHORIZED");
        if ("http" in result) {
          const http = (result as { http: { headers: Headers; body: object } }).http;
          expect(http.headers.get("www-authenticate"), why).toMatch(/^Bearer /);
          expect(http.body, why).toMatchObject({
            data: null,
            meta: { requestId: expect.any(String) },
          });
        }
      }
      // No sticky state: the same client with a valid token is served.
      expect((await endpoint.call(server, user.auth, target)).status).toBe(endpoint.success);
    });

    it("never reaches another user's data", async () => {
      const owner = await userWithTask(kind);
      const intruder = await userWithTask(kind);
      const before = await readTask(owner.user, owner.target);

      if (endpoint.surface === "rest") {
        // The owner's user id in the path: refused from the token alone.
        const result = await endpoint.call(server, intruder.user.auth, owner.target);
        expect(result.status).toBe(403);
        expect(result.code).toBe("FORBIDDEN");
        // A user id that does not exist gets the very same answer.
        const ghost = await endpoint.call(server, intruder.user.auth, {
          ...owner.target,
          userId: `ghost_${crypto.randomUUID()}`,
        });
        expect(ghost.status).toBe(403);
      }

      if (endpoint.scoped) {
        // The intruder's own path or context, the owner's task id: exactly like a missing task.
        const foreign = await endpoint.call(server, intruder.user.auth, {
          ...owner.target,
          userId: intruder.user.id,
        });
        const missing = await endpoint.call(server, intruder.user.auth, {
          userId: intruder.user.id,
          taskId: MISSING_ID,
          listId: MISSING_ID,
        });
        expect(foreign.status).toBe(404);
        expect(foreign.code).toBe("NOT_FOUND");
        if ("http" in foreign && "http" in missing) {
          const a = (foreign as { http: { body: object } }).http.body;
          const b = (missing as { http: { body: object } }).http.body;
          expect(withoutRequestId(a)).toEqual(withoutRequestId(b));
        } else {
          expect(foreign).toEqual(missing);
        }
      } else {
        // Lists, stats, me and create only ever see or touch the caller's own rows.
        const result = await endpoint.call(server, intruder.user.auth, intruder.target);
        expect(result.status).toBe(endpoint.success);
        for (const secret of [owner.target.taskId, owner.target.listId, owner.user.id]) {
          expect(JSON.stringify(result.data ?? null)).not.toContain(secret);
        }
      }

      // Whatever the intruder did, the owner's task is exactly as it was.
      const after = await readTask(owner.user, owner.target);
      expect(withoutRequestId(after.task)).toEqual(withoutRequestId(before.task));
      expect(withoutRequestId(after.list)).toEqual(withoutRequestId(before.list));
    });
  });
});

describe("coverage", () => {
  it("runs these cases on every route of the REST table and every procedure of the router", () => {
    expect(restEndpoints.map((e) => e.name).sort()).toEqual(REST_ROUTES.map(routeName).sort());
    expect(trpcEndpoints.map((e) => e.name).sort()).toEqual(
      Object.keys(appRouter._def.procedures).sort(),
    );
  });
});

describe("credentials", () => {
  /** A request with two Authorization header lines, as a raw client (or a bad proxy) sends. */
  function twoHeaders(path: string, first: TestUser, second: TestUser) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.baseUrl}${path}`, {
        // As raw name/value pairs, so both lines go out; Host must then be given too.
        headers: [
          "host",
          new URL(server.baseUrl).host,
          "authorization",
          first.auth,
          "authorization",
          second.auth,
        ],
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("refuses a request with more than one Authorization header, on both surfaces", async () => {
    const [a, b] = [newUser(), newUser()];
    for (const path of [`/api/${a.id}/tasks`, "/trpc/task.list"]) {
      const answer = await twoHeaders(path, a, b);
      expect(answer.status, path).toBe(400);
      expect(answer.body, path).toContain("Send exactly one Authorization header");
    }
    // Even when both carry the same valid token: which one counts is not ours to guess.
    const same = await twoHeaders(`/api/${a.id}/tasks`, a, a);
    expect(same.status).toBe(400);
  });
});

describe("one verification per request", () => {
  it("verifies a token once, whatever checks it first and however many procedures run", async () => {
    let verifications = 0;
    const inner = createHs256Verifier({ secret: TEST_SECRET, clockSkewSeconds: 5 });
    const counting: TokenVerifier = {
      ...inner,
      verify: (token) => {
        verifications++;
        return inner.verify(token);
      },
    };
    const limits = await rateLimiting({
      perUserPerMinute: 1_000,
      perAnonymousIpPerMinute: 1_000,
      keyPrefix: `test-${crypto.randomUUID()}`,
      logger: pino({ level: "silent" }),
    });
    const counted = await startServer({
      verifier: counting,
      app: { rateLimit: limits.middleware },
    });
    try {
      const user = newUser();
      // The rate limit, the path's user id and the procedure all need the subject: one check.
      expect(
        (await rest(counted, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status,
      ).toBe(200);
      expect(verifications).toBe(1);
      // A tRPC batch of three procedures behind the same rate limit: one more.
      const batch = await fetch(
        `${counted.baseUrl}/trpc/task.list,task.stats,me?batch=1&input=${encodeURIComponent("{}")}`,
        { headers: { authorization: user.auth } },
      );
      expect(batch.status).toBe(200);
      expect(verifications).toBe(2);
    } finally {
      await counted.close();
      await limits.close();
    }
  });
});
