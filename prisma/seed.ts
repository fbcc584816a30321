// Fills a database with demo users and tasks, idempotently: ids are derived from the seed's own
// numbering, so running it again adds nothing. Prints tokens for the first few users.
// Usage: pnpm db:seed [--users N] [--tasks M]   (DIRECT_URL / DATABASE_URL pick the database)
import { createHash } from "node:crypto";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readDevSecret } from "../apps/server/src/dev-secret.ts";
import { signHs256Token } from "../packages/api/src/auth/verifier.ts";
import { createDb } from "../packages/db/src/client.ts";
import { DEFAULT_DATABASE_URL } from "../packages/db/src/defaults.ts";

const { values } = parseArgs({
  options: { users: { type: "string", default: "10" }, tasks: { type: "string", default: "20" } },
});
const users = Number(values.users);
const tasksPerUser = Number(values.tasks);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(tasksPerUser) || tasksPerUser < 0) {
  console.error("usage: pnpm db:seed [--users N] [--tasks M]  (whole numbers)");
  process.exit(2);
}

/** A stable UUID (version 4 layout) for the i-th task of a seeded user. */
function seedUuid(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  const variant = ((Number.parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const TITLES = ["Buy groceries", "Write report", "Call the bank", "Book flights", "Fix the bike"];
const PRIORITIES = ["low", "medium", "high"] as const;
const DAY = 86_400_000;
const ROWS_PER_INSERT = 5_000;

function tasksOf(userId: string) {
  return Array.from({ length: tasksPerUser }, (_, i) => {
    const completed = i % 3 === 0;
    return {
      id: seedUuid(`${userId}:${i}`),
      userId,
      title: `${TITLES[i % TITLES.length]} #${i + 1}`,
      description: i % 2 === 0 ? "Seeded task" : null,
      priority: PRIORITIES[i % PRIORITIES.length],
      completed,
      completedAt: completed ? new Date(Date.now() - i * DAY) : null,
      dueAt: i % 4 === 0 ? null : new Date(Date.now() + ((i % 14) - 7) * DAY),
    };
  });
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const url = process.env.DIRECT_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const started = Date.now();
const { db, pool, close } = createDb({ url });

/** Where the seed writes, without the password. */
function describeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "the configured database";
  }
}

// The tables must be there: a fresh database gets one line saying what to run, not a stack trace.
async function checkMigrated(): Promise<string | undefined> {
  const where = describeUrl(url);
  try {
    const { rows } = await pool.query<{ ok: boolean }>(
      "SELECT to_regclass('public.users') IS NOT NULL AND to_regclass('public.tasks') IS NOT NULL AS ok",
    );
    if (!rows[0]?.ok) {
      return `The database ${where} has no tables yet: run \`pnpm db:migrate\` first (it uses the same DIRECT_URL / DATABASE_URL).`;
    }
  } catch (error) {
    if ((error as { code?: string }).code === "3D000") {
      return `The database ${where} does not exist yet: run \`pnpm db:migrate\` first (it creates and migrates it, with the same DIRECT_URL / DATABASE_URL).`;
    }
    const reason = error instanceof Error ? error.message : String(error);
    return `Cannot use the database ${where} (${reason}): set DIRECT_URL or DATABASE_URL, or start PostgreSQL.`;
  }
  return undefined;
}

const problem = await checkMigrated();
if (problem) {
  log(problem);
  await close();
  process.exit(1);
}

try {
  const userIds = Array.from(
    { length: users },
    (_, u) => `seed-user-${String(u + 1).padStart(4, "0")}`,
  );
  await db.user.createMany({ data: userIds.map((id) => ({ id })), skipDuplicates: true });
  let created = 0;
  let batch: ReturnType<typeof tasksOf> = [];
  const flush = async () => {
    created += (await db.task.createMany({ data: batch, skipDuplicates: true })).count;
    batch = [];
  };
  for (const [index, userId] of userIds.entries()) {
    batch.push(...tasksOf(userId));
    if (batch.length >= ROWS_PER_INSERT) await flush();
    if ((index + 1) % 100 === 0 || index + 1 === users) {
      log(`  ${index + 1}/${users} users`);
    }
  }
  if (batch.length > 0) await flush();
  log(
    `Seeded ${users} users × ${tasksPerUser} tasks: ${created} new (existing ones kept) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  const secret =
    process.env.BETTER_AUTH_SECRET ??
    (await readDevSecret(process.env.DATA_DIR ?? join(import.meta.dirname, "../.data")));
  if (process.env.NODE_ENV === "production" || !secret) {
    log(
      `Tokens: pnpm -s run token ${userIds[0]}  (needs BETTER_AUTH_SECRET or a started dev server)`,
    );
  } else {
    log("Tokens (HS256, 1 hour):");
    for (const userId of userIds.slice(0, 3)) {
      process.stdout.write(
        `${userId} ${signHs256Token({ secret, userId, expiresInSeconds: 3600 })}\n`,
      );
    }
  }
} finally {
  await close();
}
