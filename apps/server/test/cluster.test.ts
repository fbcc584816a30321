// WEB_CONCURRENCY: several server processes sharing one port (node:cluster), each with its share
// of the database budget; a process that dies is replaced; SIGTERM stops them all, gracefully.
import { describe, expect, inject, it } from "vitest";
import { newUser, rest, TEST_SECRET } from "./harness.ts";
import { spawnServer } from "./support/server-process.ts";
import { until } from "./support/until.ts";

type Line = { msg: string; worker?: number; pid?: number; role?: string };
const linesOf = (output: string): Line[] =>
  output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);

describe("WEB_CONCURRENCY", () => {
  it("serves from two processes on one port, replaces one that dies, and stops both on SIGTERM", async () => {
    const server = await spawnServer({
      DATABASE_URL: inject("databaseUrl"),
      BETTER_AUTH_SECRET: TEST_SECRET,
      WEB_CONCURRENCY: "2",
      DATABASE_POOL_MAX: "6",
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      SHUTDOWN_DRAIN_MS: "0",
    });
    try {
      const listening = () => linesOf(server.output()).filter((l) => l.msg.startsWith("Listening"));
      await until(() => listening().length === 2, 15_000);
      expect(linesOf(server.output()).find((l) => l.role === "primary")?.msg).toContain(
        "each with at most 3 database connections",
      );
      // Both answer, in turn.
      const user = newUser();
      for (let i = 0; i < 6; i++) {
        expect(
          (await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status,
        ).toBe(200);
      }
      const answeredBy = new Set(
        linesOf(server.output())
          .filter((l) => l.msg === `GET /api/${user.id}/tasks 200`)
          .map((l) => l.worker),
      );
      expect(answeredBy.size).toBe(2);

      // One dies: the other keeps answering, and a new one takes its place.
      const victim = listening()[0]?.pid as number;
      process.kill(victim, "SIGKILL");
      // (A moment for the client to see its connections to the dead process closed.)
      await new Promise((r) => setTimeout(r, 200));
      expect((await rest(server, "GET", `/api/${user.id}/tasks`, { auth: user.auth })).status).toBe(
        200,
      );
      await until(() => listening().length === 3, 15_000);
      expect(server.output()).toContain(
        `Server process ${victim} exited (SIGKILL); starting another`,
      );

      const stopping = Date.now();
      server.proc.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5_000);
      expect(linesOf(server.output()).filter((l) => l.msg === "Stopped")).toHaveLength(2);
    } finally {
      server.kill();
    }
  });

  it("refuses more than one process without DATABASE_URL (the embedded database is one process's)", async () => {
    await expect(spawnServer({ WEB_CONCURRENCY: "2" })).rejects.toThrow(
      /WEB_CONCURRENCY: more than one process needs DATABASE_URL/,
    );
  });
});
