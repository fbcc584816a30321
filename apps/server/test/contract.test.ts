// The OpenAPI document: served as generated, and strict enough that the contract check in rest()
// (every REST answer of the suite is validated against it) can fail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../src/rest/openapi.ts";
import { newUser, rest, startServer, type TestServer } from "./harness.ts";
import { assertMatchesSpec } from "./support/contract.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const taskUrl = "/api/u1/tasks/7b0c3f3e-8f6b-4a8e-9d55-0a9c1b2e3f40";

describe("OpenAPI document", () => {
  it("is served at /api/openapi.json without a token, as generated", async () => {
    const res = await rest(server, "GET", "/api/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths)).toEqual([
      "/api/{user_id}/tasks",
      "/api/{user_id}/tasks/changes",
      "/api/{user_id}/tasks/events",
      "/api/{user_id}/tasks/events/ticket",
      "/api/{user_id}/tasks/batch",
      "/api/{user_id}/tasks/clear-completed",
      "/api/{user_id}/tasks/stats",
      "/api/{user_id}/tasks/{id}",
      "/api/{user_id}/tasks/{id}/complete",
      "/api/{user_id}/tasks/{id}/move",
      "/api/{user_id}/labels",
      "/api/{user_id}/lists",
      "/api/{user_id}/lists/{listId}",
    ]);
  });

  it("describes the real limits, taken from the validation schemas", () => {
    const task = openApiDocument().components?.schemas?.TaskCreate as {
      properties: Record<string, { maxLength?: number }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(task.properties.title?.maxLength).toBe(200);
    expect(task.required).toEqual(["title"]);
    expect(task.additionalProperties).toBe(false);
  });

  it("rejects answers that break it, so the suite-wide check can fail", () => {
    const meta = { requestId: "r" };
    const good = {
      id: "7b0c3f3e-8f6b-4a8e-9d55-0a9c1b2e3f40",
      title: "t",
      description: null,
      completed: false,
      completedAt: null,
      priority: "medium",
      dueAt: null,
      createdAt: "2030-01-01T00:00:00.000Z",
      updatedAt: "2030-01-01T00:00:00.000Z",
      version: 1,
      listId: "0b3c3f3e-8f6b-4a8e-9d55-0a9c1b2e3f40",
      parentId: null,
      position: "a0",
      labels: ["home"],
    };
    expect(() => assertMatchesSpec("GET", taskUrl, 200, { data: good, meta })).not.toThrow();
    expect(() =>
      assertMatchesSpec("GET", taskUrl, 200, { data: { ...good, version: "1" }, meta }),
    ).toThrow(/does not match/);
    expect(() =>
      assertMatchesSpec("GET", taskUrl, 200, { data: { ...good, priority: "urgent" }, meta }),
    ).toThrow(/does not match/);
    expect(() => assertMatchesSpec("GET", taskUrl, 418, { data: null, meta })).toThrow(
      /not in the spec/,
    );
  });
});

describe("docs page", () => {
  it("serves the interactive reference at /docs, from this server only", async () => {
    const res = await fetch(`${server.baseUrl}/docs/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("swagger-ui");
    // Every script is same-origin: the page works with no internet and under the CSP.
    for (const [, src] of html.matchAll(/<script[^>]+src="([^"]+)"/g)) {
      expect(src).not.toMatch(/^https?:/);
    }
    const user = newUser();
    expect((await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status).toBe(
      200,
    );
  });
});
