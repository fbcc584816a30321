// The production build (`pnpm --filter @todo/server build`, as the Dockerfile runs it): the
// server compiled to JavaScript starts without a TypeScript loader and serves both surfaces.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";
import { newUser, rest, TEST_SECRET, trpcClient } from "./harness.ts";
import { spawnServer } from "./support/server-process.ts";

const serverDir = join(import.meta.dirname, "..");

it("builds, then runs from dist/main.js with no TypeScript loader", async () => {
  await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/build.ts"], {
    cwd: serverDir,
  });
  const server = await spawnServer(
    {
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      DATABASE_URL: inject("databaseUrl"),
      BETTER_AUTH_SECRET: TEST_SECRET,
      RATE_LIMIT_PER_USER_PER_MINUTE: "0",
      SHUTDOWN_DRAIN_MS: "0",
    },
    ["--enable-source-maps", "dist/main.js"],
  );
  try {
    const pid = server.proc.pid as number;
    // No loader in its arguments, and no esbuild service beside it (tsx starts one).
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain("tsx");
    const children = () => {
      try {
        return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" }).trim();
      } catch {
        return "";
      }
    };
    expect(children()).toBe("");

    const user = newUser();
    const created = await rest(server, "POST", `/api/${user.id}/tasks`, {
      auth: user.auth,
      body: { title: "compiled" },
    });
    expect(created.status).toBe(201);
    const listed = await trpcClient(server, user.auth).task.list.query({});
    expect(listed.items.map((t) => t.title)).toEqual(["compiled"]);

    server.proc.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  } finally {
    server.kill();
  }
});
