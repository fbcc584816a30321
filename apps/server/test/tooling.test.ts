// The database chores as the README gives them: `pnpm db:seed` and `pnpm db:studio`.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createHs256Verifier } from "@todo/api/auth";
import { createTestDatabase, type TestDatabase } from "@todo/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SECRET } from "./harness.ts";

const repoRoot = join(import.meta.dirname, "../../..");
let database: TestDatabase;
let studio: ChildProcess | undefined;
beforeAll(async () => {
  database = await createTestDatabase({ prefix: "todo_test_tooling", migrate: true });
});
afterAll(async () => {
  if (studio?.pid && studio.exitCode === null) process.kill(-studio.pid, "SIGKILL");
  await database.drop();
});

function env(extra: Record<string, string> = {}) {
  const { DATABASE_URL: _d, DIRECT_URL: _u, BETTER_AUTH_SECRET: _s, ...rest } = process.env;
  return { ...rest, DATABASE_URL: database.url, ...extra };
}

async function rows(sql: string) {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function count(sql: string) {
  return Number((await rows(sql))[0].n);
}

/** Every seeded row as the seed wrote it, to compare two runs. */
const snapshot = async () => ({
  lists: await rows("SELECT * FROM lists ORDER BY id"),
  tasks: await rows("SELECT * FROM tasks ORDER BY id"),
});

describe("pnpm db:seed", () => {
  it("fills the database idempotently and prints working tokens", async () => {
    const run = () =>
      promisify(execFile)("pnpm", ["-s", "db:seed", "--users", "7", "--tasks", "6"], {
        cwd: repoRoot,
        env: env({ BETTER_AUTH_SECRET: TEST_SECRET }),
      });
    const first = await run();
    expect(first.stderr).toContain(": 42 new tasks, 21 new lists");
    const seeded = await snapshot();
    const second = await run();
    expect(second.stderr).toContain(": 0 new tasks, 0 new lists");
    expect(await snapshot()).toEqual(seeded);
    expect(await count("SELECT count(*) AS n FROM users WHERE id LIKE 'seed-user-%'")).toBe(7);
    expect(await count("SELECT count(*) AS n FROM tasks")).toBe(42);
    expect(
      await rows("SELECT user_id, count(*)::int AS n FROM tasks GROUP BY user_id ORDER BY user_id"),
    ).toEqual(Array.from({ length: 7 }, (_, u) => ({ user_id: `seed-user-000${u + 1}`, n: 6 })));

    // Each user: the Inbox first, then three more lists with colors, in fractional-indexing order.
    const lists = await rows(
      `SELECT user_id, name, color, is_default, convert_from(position, 'UTF8') AS key
         FROM lists ORDER BY user_id, position`,
    );
    expect(lists).toHaveLength(28);
    for (let u = 0; u < 7; u++) {
      const own = lists.filter((list) => list.user_id === `seed-user-000${u + 1}`);
      expect(own.map((list) => list.name)).toEqual(["Inbox", "Work", "Personal", "Groceries"]);
      expect(own.map((list) => list.is_default)).toEqual([true, null, null, null]);
      expect(own.slice(1).map((list) => list.color)).toEqual([
        expect.stringMatching(/^#[0-9a-f]{6}$/),
        expect.stringMatching(/^#[0-9a-f]{6}$/),
        expect.stringMatching(/^#[0-9a-f]{6}$/),
      ]);
      expect(new Set(own.map((list) => list.key)).size).toBe(4);
    }
    // Tasks in every list; every user has subtasks, each of a top-level task of the same list.
    expect(
      await count(
        "SELECT count(DISTINCT list_id) AS n FROM tasks WHERE user_id = 'seed-user-0001'",
      ),
    ).toBe(4);
    const subtasks = await rows(
      `SELECT count(*)::int AS n, count(DISTINCT t.user_id)::int AS users,
              count(*) FILTER (WHERE parent.list_id = t.list_id AND parent.parent_id IS NULL)::int AS placed
         FROM tasks t JOIN tasks parent ON parent.user_id = t.user_id AND parent.id = t.parent_id`,
    );
    expect(subtasks[0]).toEqual({ n: expect.any(Number), users: 7, placed: subtasks[0].n });
    // No two siblings share a position.
    expect(
      await count(
        `SELECT count(*) AS n FROM (SELECT 1 FROM tasks
           GROUP BY user_id, list_id, parent_id, position HAVING count(*) > 1) AS shared`,
      ),
    ).toBe(0);
    // Labels from the small set, up to three, never twice on a task (ignoring case).
    const labelled = await rows("SELECT labels FROM tasks WHERE cardinality(labels) > 0");
    expect(labelled.length).toBeGreaterThan(0);
    for (const { labels } of labelled) {
      expect(labels.length).toBeLessThanOrEqual(3);
      expect(new Set(labels.map((label: string) => label.toLowerCase())).size).toBe(labels.length);
      for (const label of labels) expect(["work", "home", "errand", "urgent"]).toContain(label);
    }

    const lines = first.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    const verifier = createHs256Verifier({ secret: TEST_SECRET, clockSkewSeconds: 0 });
    for (const line of lines) {
      const [userId, token] = line.split(" ");
      expect(await verifier.verify(token as string)).toEqual({
        userId,
        expiresAt: expect.any(Number),
      });
    }
  });

  it("on a database nobody migrated, says in one line what to run", async () => {
    const empty = await createTestDatabase({ prefix: "todo_test_unmigrated", migrate: false });
    try {
      const result = await promisify(execFile)("pnpm", ["-s", "db:seed"], {
        cwd: repoRoot,
        env: { ...env(), DATABASE_URL: empty.url },
      }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/has no tables yet: run `pnpm db:migrate` first/);
    } finally {
      await empty.drop();
    }
    // A database that does not exist at all: the same advice (db:migrate creates it).
    const missing = new URL(empty.url);
    missing.pathname = `/todo_test_missing_${crypto.randomUUID().slice(0, 8)}`;
    const absent = await promisify(execFile)("pnpm", ["-s", "db:seed"], {
      cwd: repoRoot,
      env: { ...env(), DATABASE_URL: missing.toString() },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(absent.code).toBe(1);
    expect(absent.stderr.trim()).toMatch(
      /^The database .* does not exist yet: run `pnpm db:migrate` first/,
    );
  });
});

describe("pnpm run token", () => {
  const token = (extra: Record<string, string>) =>
    promisify(execFile)("pnpm", ["-s", "run", "token", "someone"], {
      cwd: repoRoot,
      env: env(extra),
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it("signs a token the HS256 verifier accepts", async () => {
    const result = await token({ BETTER_AUTH_SECRET: TEST_SECRET });
    expect(result.code).toBe(0);
    const verifier = createHs256Verifier({ secret: TEST_SECRET, clockSkewSeconds: 0 });
    expect(await verifier.verify(result.stdout.trim())).toEqual({
      userId: "someone",
      expiresAt: expect.any(Number),
    });
  });

  it("refuses in production, and without a secret", async () => {
    const production = await token({
      NODE_ENV: "production",
      BETTER_AUTH_SECRET: TEST_SECRET,
      DATABASE_URL: database.url,
    });
    expect(production.code).toBe(1);
    expect(production.stderr).toContain("Refusing to mint tokens in production");
    // Refused before the rest of the configuration is checked: no other setting would help.
    const bare = await token({ NODE_ENV: "production", DATABASE_URL: "" });
    expect(bare.code).toBe(1);
    expect(bare.stderr.trim()).toBe("Refusing to mint tokens in production.");
    const noSecret = await token({ DATA_DIR: join(tmpdir(), `todo-empty-${crypto.randomUUID()}`) });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toContain("No secret");
    expect(noSecret.stdout).toBe("");
  });
});

describe("pnpm db:studio", () => {
  it("serves Prisma Studio on the configured database, headless", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    // As documented, on a machine without a desktop: no browser to open, so it prints the URL.
    const { DISPLAY: _x, WAYLAND_DISPLAY: _w, BROWSER: _b, ...headless }: NodeJS.ProcessEnv = env();
    studio = spawn("pnpm", ["db:studio", "--port", String(port)], {
      cwd: repoRoot,
      env: headless,
      detached: true,
    });
    let output = "";
    studio.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    studio.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    let page: Response | undefined;
    for (let i = 0; i < 60 && !page?.ok; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      page = await fetch(`http://localhost:${port}/`).catch(() => undefined);
    }
    expect(page?.status, output).toBe(200);
    expect(await page?.text()).toMatch(/<html/i);
    expect(output).toContain(`http://localhost:${port}`);
  });
});
