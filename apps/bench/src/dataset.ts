// The benchmark's data: N users × M tasks in a database of its own, filled by PostgreSQL itself
// (generate_series), created once and reused while the migrations are unchanged.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deployMigrations } from "@todo/db/migrate";
import { adminUrl, databaseOnAdminServer, withClient } from "@todo/db/testing";

const migrationsDir = join(import.meta.dirname, "../../../prisma/migrations");

export type Dataset = {
  url: string;
  name: string;
  users: number;
  tasksPerUser: number;
  drop: () => Promise<void>;
};

export const userIdOf = (n: number) => `bench-user-${String(n).padStart(6, "0")}`;

/**
 * A dataset id: md5 of `name` with the version (4) and variant (10xx) bits set, as the API accepts
 * only RFC 9562 UUIDs. Mirrors uuidSql.
 */
function uuidOf(name: string): string {
  const h = createHash("md5").update(name).digest("hex");
  const variant = ((Number.parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** uuidOf in SQL, from `h`, an expression of the md5 hex digest. */
const uuidSql = (h: string) => `(substr(${h}, 1, 12) || '4' || substr(${h}, 14, 3)
    || substr('89ab', 1 + (('x' || substr(${h}, 17, 1))::bit(4)::int & 3), 1)
    || substr(${h}, 18, 15))::uuid`;

/** The id the dataset gave the i-th task of a user: uuidOf(user || ':' || i). */
export const taskIdOf = (userId: string, i: number): string => uuidOf(`${userId}:${i}`);

/**
 * The id the dataset gave a user's Inbox: uuidOf(user || ':inbox'), so that a request can name it
 * without looking it up.
 */
export const inboxIdOf = (userId: string): string => uuidOf(`${userId}:inbox`);

// Each user's tasks sit at the top level of the Inbox (made with the users row, then given its
// inboxIdOf id), newest (i = 1) first: i - 1 as a fractional-indexing integer key of one length
// ("d" and four base-62 digits), as the migration that introduced positions placed existing tasks.
const B62 = "'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'";
const POSITION_SQL = `convert_to('d' || ${[238_328, 3_844, 62, 1]
  .map((unit) => `substr(${B62}, ((i - 1) / ${unit} % 62) + 1, 1)`)
  .join(" || ")}, 'UTF8')`;

/** Bumped whenever the generated data changes shape, so an old dataset is not reused. */
const DATASET_VERSION = 4;

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const entry of readdirSync(migrationsDir, { recursive: true }).map(String).sort()) {
    if (entry.endsWith(".sql")) hash.update(entry).update(readFileSync(join(migrationsDir, entry)));
  }
  return hash.digest("hex").slice(0, 10);
}

/**
 * Creates (or reuses) the dataset; `log` hears about progress. A `throwaway` one (the smoke run's)
 * has a name of its own, so runs on one PostgreSQL never share it, and is never reused.
 */
export async function ensureDataset(
  users: number,
  tasksPerUser: number,
  log: (message: string) => void,
  options: { throwaway?: boolean } = {},
): Promise<Dataset> {
  const shared = `todo_bench_v${DATASET_VERSION}_${users}x${tasksPerUser}_${migrationsHash()}`;
  const name = options.throwaway
    ? `todo_bench_run_${users}x${tasksPerUser}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`
    : shared;
  const base = adminUrl();
  const { url, drop } = databaseOnAdminServer(name);
  const exists = await withClient(base, async (c) => {
    const { rowCount } = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return rowCount === 1;
  });
  if (exists) {
    const ready = await withClient(url, async (c) => {
      const { rows } = await c.query("SELECT to_regclass('bench_ready') IS NOT NULL AS ready");
      return rows[0]?.ready === true;
    });
    if (ready) {
      log(`dataset ${name}: reused`);
      await prewarm(url);
      return { url, name, users, tasksPerUser, drop };
    }
    await drop();
  }
  const started = Date.now();
  log(`dataset ${name}: creating ${users} users × ${tasksPerUser} tasks`);
  await withClient(base, (c) => c.query(`CREATE DATABASE "${name}"`));
  await deployMigrations(url);
  await withClient(url, async (c) => {
    await c.query(
      `INSERT INTO users (id) SELECT 'bench-user-' || lpad(n::text, 6, '0') FROM generate_series(1, $1) n`,
      [users],
    );
    // Before any task names it (the Inbox's trigger gave it a random id).
    await c.query(`UPDATE lists SET id = ${uuidSql("md5(user_id || ':inbox')")} WHERE is_default`);
    // In slices of users, so progress can be reported and no single statement runs for minutes.
    const slice = Math.max(1, Math.floor(200_000 / Math.max(1, tasksPerUser)));
    for (let first = 1; first <= users; first += slice) {
      const last = Math.min(users, first + slice - 1);
      await c.query(
        `INSERT INTO tasks (id, user_id, list_id, position, title, description, completed,
                            completed_at, priority, due_at, created_at, updated_at, version)
         SELECT ${uuidSql("h")}, uid, inbox.id, ${POSITION_SQL}, 'Task ' || i,
                CASE WHEN i % 2 = 0 THEN 'Seeded task' END,
                i % 3 = 0, CASE WHEN i % 3 = 0 THEN now() END,
                (ARRAY['low', 'medium', 'high'])[1 + i % 3]::"Priority",
                CASE WHEN i % 4 <> 0 THEN now() + (i % 14 - 7) * interval '1 day' END,
                now() - i * interval '1 minute', now() - i * interval '1 minute', 1
           FROM (SELECT 'bench-user-' || lpad(n::text, 6, '0') AS uid
                   FROM generate_series($1::int, $2::int) n) us,
                LATERAL (SELECT id FROM lists WHERE user_id = uid AND is_default) inbox,
                generate_series(1, $3::int) i,
                LATERAL (SELECT md5(uid || ':' || i) AS h) hashed`,
        [first, last, tasksPerUser],
      );
      log(`  ${last}/${users} users`);
    }
    await c.query("VACUUM ANALYZE tasks");
    await c.query("CREATE TABLE bench_ready (at timestamptz DEFAULT now())");
  });
  await prewarm(url);
  log(`dataset ${name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { url, name, users, tasksPerUser, drop };
}

/**
 * Reads the table and the list's index into the OS page cache, so the first repetitions do not
 * pay for reading a dataset that later ones find in memory (pg_prewarm in "read" mode; without
 * the extension, a sequential scan brings in the table at least).
 */
async function prewarm(url: string) {
  await withClient(url, async (c) => {
    try {
      await c.query("CREATE EXTENSION IF NOT EXISTS pg_prewarm");
      await c.query(
        "SELECT pg_prewarm('tasks', 'read'), pg_prewarm('tasks_user_id_created_at_id_idx', 'read')",
      );
    } catch {
      await c.query("SELECT count(*) FROM tasks");
    }
  });
}
