// @todo/client against the real server: the tRPC client and the REST client generated from the
// OpenAPI document, both over a real socket.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { signHs256Token } from "@todo/api/auth";
import { createClient } from "@todo/client";
import { createRestClient } from "@todo/client/rest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientTypesAreCurrent } from "../scripts/generate-client-types.ts";
import { newUser, startServer, TEST_SECRET, type TestServer } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe("@todo/client", () => {
  it("createClient: a typed tRPC client that fetches a token per request", async () => {
    const user = newUser();
    let asked = 0;
    const api = createClient({
      url: server.baseUrl,
      getToken: async () => {
        asked++;
        return user.token;
      },
    });
    const task = await api.task.create.mutate({ title: "from the client" });
    // Batched: two queries, one request.
    const [page, stats] = await Promise.all([api.task.list.query(), api.task.stats.query()]);
    expect(page.items).toEqual([task]);
    expect(stats.total).toBe(1);
    expect(asked).toBe(2);
  });

  it("createClient: a mutation with an Idempotency-Key goes alone and is answered once", async () => {
    const user = newUser();
    const requests: string[] = [];
    const api = createClient({
      url: server.baseUrl,
      getToken: () => {
        requests.push("token");
        return user.token;
      },
    });
    const key = crypto.randomUUID();
    const flush = () =>
      api.task.batch.mutate(
        { ops: [{ op: "create", title: "outbox" }] },
        { context: { idempotencyKey: key } },
      );
    // Sent alongside a batched query: the keyed mutation takes a request of its own.
    const [first, page] = await Promise.all([flush(), api.task.list.query()]);
    expect(requests).toHaveLength(2);
    const retried = await flush();
    expect(retried).toEqual(first);
    const after = await api.task.list.query();
    expect(after.items).toHaveLength(1);
    expect(page.items.length).toBeLessThanOrEqual(1);
  });

  it("createClient: live changes over SSE, with the Authorization header or a stream ticket", async () => {
    for (const live of ["header", "ticket"] as const) {
      const user = newUser();
      const api = createClient({ url: server.baseUrl, getToken: () => user.token, live });
      const seen: Array<{ id: string; data: { id: string } }> = [];
      let started!: () => void;
      const ready = new Promise<void>((resolve) => {
        started = resolve;
      });
      const subscription = api.task.onChange.subscribe(undefined, {
        onStarted: () => started(),
        onData: (event) => seen.push(event),
      });
      await ready;
      const task = await api.task.create.mutate({ title: `live over ${live}` });
      for (let i = 0; i < 500 && seen.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      subscription.unsubscribe();
      expect(
        seen.map((event) => event.data.id),
        live,
      ).toEqual([task.id]);
      // The event id resumes the feed: nothing after it.
      const rest = await api.task.changes.query({ since: seen[0]?.id });
      expect(rest.changes).toEqual([]);
    }
  });

  it("createClient: a subscription outlives its token, reopening with a fresh one from its last event", async () => {
    for (const live of ["header", "ticket"] as const) {
      const id = `user_${crypto.randomUUID()}`;
      // Every token lives 2 s; the client asks for one per connection.
      const getToken = () =>
        signHs256Token({ secret: TEST_SECRET, userId: id, expiresInSeconds: 2 });
      const api = createClient({ url: server.baseUrl, getToken, live });
      const seen: string[] = [];
      const errors: unknown[] = [];
      let started!: () => void;
      const ready = new Promise<void>((resolve) => {
        started = resolve;
      });
      const subscription = api.task.onChange.subscribe(undefined, {
        onStarted: () => started(),
        onData: (event) => {
          if (event.data.kind === "task") seen.push((event.data.task as { title: string }).title);
        },
        onError: (error) => errors.push(error),
      });
      await ready;
      await api.task.create.mutate({ title: "before expiry" });
      await new Promise((r) => setTimeout(r, 3_000));
      await api.task.create.mutate({ title: "after expiry" });
      for (let i = 0; i < 300 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      subscription.unsubscribe();
      expect(errors, live).toEqual([]);
      expect(seen, live).toEqual(["before expiry", "after expiry"]);
    }
  });

  it("createRestClient: typed calls to the REST routes", async () => {
    const user = newUser();
    const rest = createRestClient({ url: server.baseUrl, getToken: () => user.token });
    const created = await rest.POST("/api/{user_id}/tasks", {
      params: { path: { user_id: user.id } },
      body: { title: "over REST", priority: "low" },
    });
    expect(created.response.status).toBe(201);
    const id = created.data?.data.id as string;
    const listed = await rest.GET("/api/{user_id}/tasks", {
      params: { path: { user_id: user.id }, query: { limit: 5 } },
    });
    expect(listed.data?.data.map((t) => t.id)).toEqual([id]);
    const missing = await rest.GET("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: user.id, id: "00000000-0000-4000-8000-000000000000" } },
    });
    expect(missing.error?.error.code).toBe("NOT_FOUND");
  });

  it("has REST types generated from the current OpenAPI document", async () => {
    // Fails after a schema change until `pnpm client:generate` is run and committed.
    expect(await clientTypesAreCurrent()).toBe(true);
  });

  it("runs the README's client example as written, against a real server", async () => {
    const root = join(import.meta.dirname, "../../..");
    const source = await readFile(join(root, "examples/consumer/src/quickstart.ts"), "utf8");
    const region = /\/\/ #region readme\n([\s\S]*?)\/\/ #endregion readme/.exec(source)?.[1];
    const readme = await readFile(join(root, "README.md"), "utf8");
    // The README shows exactly the file's example, so what it shows is what runs here.
    expect(region).toBeDefined();
    expect(readme).toContain(region);

    const user = newUser();
    const { stdout } = await promisify(execFile)(
      "pnpm",
      ["-s", "--filter", "@todo/consumer-example", "quickstart"],
      {
        cwd: root,
        env: {
          ...process.env,
          TODO_API_URL: server.baseUrl,
          TODO_TOKEN: user.token,
          TODO_USER_ID: user.id,
        },
      },
    );
    expect(stdout).toContain('tRPC: created "Buy milk"; 1 open task(s), next page: null');
    expect(stdout).toMatch(/REST: 1 task\(s\), request [0-9a-f-]{36}/);
  });

  it("types a separate consumer project: its right calls compile, its wrong calls do not", async () => {
    // examples/consumer/src/wrong-calls.ts marks each wrong call @ts-expect-error: the project
    // compiles only if every one of them is still an error.
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const project = join(import.meta.dirname, "../../../examples/consumer/tsconfig.json");
    const run = promisify(execFile)(process.execPath, [tsc, "--noEmit", "-p", project]);
    await expect(run).resolves.toMatchObject({ stdout: "" });
  });
});
