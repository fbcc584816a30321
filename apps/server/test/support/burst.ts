// A burst of ordinary use: at least 40 calls at once on both surfaces, reads and writes, with
// tRPC calls batched as a frontend's httpBatchLink sends them. Every one must succeed.
import { createClient } from "@todo/client";
import { expect } from "vitest";
import { rest, type TestServer, type TestUser } from "../harness.ts";

const tasksOf = (user: TestUser) => `/api/${user.id}/tasks`;

/** At least 40 calls at once: REST reads and writes, and tRPC calls batched by httpBatchLink. */
export async function burst(server: Pick<TestServer, "baseUrl">, user: TestUser) {
  const seed = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      rest(server, "POST", tasksOf(user), { auth: user.auth, body: { title: `seed ${i}` } }),
    ),
  );
  const ids = seed.map((r) => r.body.data.id as string);
  const api = createClient({ url: server.baseUrl, getToken: () => user.token });
  const call = (method: string, path: string, body?: object) =>
    rest(server, method, path, { auth: user.auth, body }).then((r) => ({
      call: `${method} ${path}`,
      status: r.status,
    }));
  const trpc = (name: string, run: () => Promise<unknown>) =>
    run().then(
      () => ({ call: name, status: 200 }),
      (error: Error) => ({ call: name, status: 0, error: error.message }),
    );

  const calls = [
    ...Array.from({ length: 10 }, (_, i) =>
      call("POST", tasksOf(user), { title: `burst ${i}`, priority: "high" }),
    ),
    ...Array.from({ length: 8 }, () => call("GET", `${tasksOf(user)}?limit=5&sort=priority`)),
    ...Array.from({ length: 4 }, () => call("GET", `${tasksOf(user)}/stats`)),
    ...ids.slice(0, 2).map((id) => call("PATCH", `${tasksOf(user)}/${id}`, { title: "renamed" })),
    ...ids.slice(2, 4).map((id) => call("PATCH", `${tasksOf(user)}/${id}/complete`)),
    ...ids.slice(0, 4).map((id) => call("GET", `${tasksOf(user)}/${id}`)),
    call("DELETE", `${tasksOf(user)}/${ids[5]}`),
    // Issued in one tick: httpBatchLink sends these as batches of up to 10 calls.
    ...Array.from({ length: 4 }, (_, i) =>
      trpc("task.create", () => api.task.create.mutate({ title: `trpc ${i}` })),
    ),
    ...Array.from({ length: 4 }, () => trpc("task.list", () => api.task.list.query())),
    ...Array.from({ length: 2 }, () => trpc("task.stats", () => api.task.stats.query())),
    trpc("task.toggle", () => api.task.toggle.mutate({ id: ids[4] as string })),
    trpc("me", () => api.me.query()),
  ];
  expect(calls.length).toBeGreaterThanOrEqual(40);
  const results = await Promise.all(calls);
  const failed = results.filter((r) => r.status < 200 || r.status > 299);
  expect(failed).toEqual([]);

  // Nothing lost: 6 seeded + 10 REST + 4 tRPC creates, one deleted.
  const stats = await api.task.stats.query();
  expect(stats.total).toBe(19);
}
