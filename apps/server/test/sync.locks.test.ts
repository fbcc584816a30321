// What can only be staged with a row lock held from outside, so on PostgreSQL only: on the
// embedded database such a lock holds its one session, and with it every request.
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { newUser, rest, startServer, type TestServer } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

it("answers 409 while the first request with an Idempotency-Key still runs", async () => {
  const user = newUser();
  const task = (
    await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: "locked" },
    })
  ).body.data;
  // Hold the task's row, so the first request waits inside its transaction.
  const locker = new pg.Client({ connectionString: inject("databaseUrl") });
  await locker.connect();
  await locker.query("BEGIN");
  await locker.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [task.id]);
  const headers = { "idempotency-key": crypto.randomUUID() };
  const path = `${`/api/${user.id}/tasks`}/${task.id}`;
  const first = rest(server, "PATCH", path, {
    auth: user.auth,
    body: { title: "one" },
    headers,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const meanwhile = await rest(server, "PATCH", path, {
    auth: user.auth,
    body: { title: "one" },
    headers,
  });
  expect(meanwhile.status).toBe(409);
  expect(meanwhile.headers.get("retry-after")).toBe("1");
  expect(meanwhile.body.error.message).toMatch(/still being processed/);
  await locker.query("COMMIT");
  await locker.end();
  expect((await first).status).toBe(200);
  const after = await rest(server, "PATCH", path, {
    auth: user.auth,
    body: { title: "one" },
    headers,
  });
  expect(after.status).toBe(200);
  expect(after.headers.get("idempotent-replayed")).toBe("true");
  expect(after.body.data.version).toBe(2);
});
