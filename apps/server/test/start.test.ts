// The README's start command, as a newcomer runs it: no DATABASE_URL, no secret. It must start the
// embedded database, mint a development token, and serve authenticated requests on both surfaces.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { rest, type TestUser, trpcClient } from "./harness.ts";
import { burst } from "./support/burst.ts";

const repoRoot = join(import.meta.dirname, "../../..");

function newcomerEnv(dataDir: string): NodeJS.ProcessEnv {
  const {
    DATABASE_URL: _d,
    DIRECT_URL: _u,
    BETTER_AUTH_SECRET: _s,
    NODE_ENV: _n,
    ...rest
  } = process.env;
  return { ...rest, DATA_DIR: dataDir, PORT: "0", DATABASE_POOL_IDLE_TIMEOUT_MS: "500" };
}

let dataDir: string;
let child: ChildProcess;
let output = "";

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "todo-start-"));
});
afterAll(async () => {
  if (child?.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

function waitForUrl(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

it("pnpm start serves authenticated requests on the embedded database", async () => {
  const env = newcomerEnv(dataDir);
  child = spawn("pnpm", ["start"], { cwd: repoRoot, env, detached: true });
  const baseUrl = await waitForUrl(child);
  expect(output).toContain("embedded PostgreSQL");

  const { stdout } = await promisify(execFile)("pnpm", ["-s", "run", "token", "newcomer"], {
    cwd: repoRoot,
    env,
  });
  const auth = `Bearer ${stdout.trim()}`;
  const server = { baseUrl, close: async () => {} };

  const created = await rest(server, "POST", "/api/newcomer/tasks", {
    auth,
    body: { title: "first task" },
  });
  expect(created.status).toBe(201);
  const listed = await trpcClient(server, auth).task.list.query();
  expect(listed.items.map((t) => t.title)).toEqual(["first task"]);
  expect((await rest(server, "GET", "/api/someone-else/tasks", { auth })).status).toBe(403);

  // Ordinary use of the default mode: bursts on both surfaces, before and after an idle period
  // longer than the pool's idle timeout (set short here), all answered successfully.
  const tokenFor = async (id: string) => {
    const { stdout: token } = await promisify(execFile)("pnpm", ["-s", "run", "token", id], {
      cwd: repoRoot,
      env,
    });
    return { id, token: token.trim(), auth: `Bearer ${token.trim()}` };
  };
  const [first, second, third] = await Promise.all(
    ["burst-1", "burst-2", "burst-3"].map((id) => tokenFor(id)),
  );
  await burst(server, first as TestUser);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await Promise.all([burst(server, second as TestUser), burst(server, third as TestUser)]);
  const ready = await rest(server, "GET", "/health/ready");
  expect(ready.status).toBe(200);

  // SIGTERM to the process group (pnpm and the server): the server closes cleanly.
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  process.kill(-(child.pid as number), "SIGTERM");
  await exited;
  expect(output).toContain('"msg":"Stopped"');
});
