// /metrics in Prometheus format: requests by route template and status, latency, pool use.
import { createDb } from "@todo/db/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createMetrics } from "../src/http/metrics.ts";
import { REST_ROUTES } from "../src/rest/routes.ts";
import { newUser, rest, startServer, type TestServer, trpcClient } from "./harness.ts";

let server: TestServer;
const pool = createDb({ url: inject("databaseUrl"), poolMax: 2 });
beforeAll(async () => {
  server = await startServer({
    app: {
      metrics: createMetrics({
        pool: pool.pool,
        token: "metrics-token-0123456789",
        restPaths: REST_ROUTES.map((route) => route.path),
      }),
    },
  });
});
afterAll(async () => {
  await server.close();
  await pool.close();
});

async function scrape() {
  const res = await fetch(`${server.baseUrl}/metrics`, {
    headers: { authorization: "Bearer metrics-token-0123456789" },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

describe("/metrics", () => {
  it("counts requests by route template and status, never by raw path", async () => {
    const user = newUser();
    const task = await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: "measured" },
    });
    await rest(server, "GET", `/api/${user.id}/tasks/${task.body.data.id}`, { auth: user.auth });
    await rest(server, "GET", `/api/${user.id}/tasks/00000000-0000-4000-8000-000000000000`, {
      auth: user.auth,
    });
    await trpcClient(server, user.auth).task.list.query();
    await fetch(`${server.baseUrl}/trpc/no.such.procedure`);

    const text = await scrape();
    expect(text).toMatch(
      /http_requests_total\{method="POST",route="\/api\/:user_id\/tasks",status="201"\} \d+/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/api\/:user_id\/tasks\/:id",status="404"\} \d+/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/trpc\/task.list",status="200"\} \d+/,
    );
    expect(text).toMatch(/route="\/trpc\/\(unknown\)"/);
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.05",method="GET",route="\/api\/:user_id\/tasks\/:id"\}/,
    );
    expect(text).toMatch(/db_pool_connections\{state="total"\} \d+/);
    expect(text).toMatch(/db_pool_connections\{state="waiting"\} \d+/);
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).not.toContain(user.id);
    expect(text).not.toContain(task.body.data.id);
  });

  it("carries the same security headers as every other answer", async () => {
    const user = newUser();
    const api = await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth });
    const metrics = await fetch(`${server.baseUrl}/metrics`, {
      headers: { authorization: "Bearer metrics-token-0123456789" },
    });
    for (const name of [
      "content-security-policy",
      "strict-transport-security",
      "x-content-type-options",
      "x-frame-options",
      "referrer-policy",
      "cross-origin-resource-policy",
    ]) {
      expect(metrics.headers.get(name), name).not.toBeNull();
      expect(metrics.headers.get(name), name).toBe(api.headers.get(name));
    }
  });

  it("needs the metrics token when one is configured", async () => {
    expect((await fetch(`${server.baseUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${server.baseUrl}/metrics`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
  });
});
