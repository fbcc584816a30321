// Demo data, idempotently: ids are derived from the seed's own numbering, so seeding again adds
// nothing. Used by `pnpm db:seed` (apps/server/scripts/seed.ts, which also prints tokens).
import { createHash } from "node:crypto";
import { generateNKeysBetween } from "fractional-indexing";
import type { Db } from "./client.ts";

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

function tasksOf(userId: string, listId: string, tasksPerUser: number) {
  // The tasks' order in the Inbox: the seed's numbering.
  const positions = generateNKeysBetween(null, null, tasksPerUser);
  return Array.from({ length: tasksPerUser }, (_, i) => {
    const completed = i % 3 === 0;
    return {
      id: seedUuid(`${userId}:${i}`),
      userId,
      listId,
      position: Buffer.from(positions[i] as string),
      title: `${TITLES[i % TITLES.length]} #${i + 1}`,
      description: i % 2 === 0 ? "Seeded task" : null,
      priority: PRIORITIES[i % PRIORITIES.length],
      completed,
      completedAt: completed ? new Date(Date.now() - i * DAY) : null,
      dueAt: i % 4 === 0 ? null : new Date(Date.now() + ((i % 14) - 7) * DAY),
    };
  });
}

/** Where a URL points, without its password. */
export function describeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "the configured database";
  }
}

/**
 * Why the database at `url` cannot be seeded, in one line saying what to run; undefined when it
 * can (it answers and has the tables).
 */
export async function whyNotSeedable(db: Db, url: string): Promise<string | undefined> {
  const where = describeUrl(url);
  try {
    const { rows } = await db.pool.query<{ ok: boolean }>(
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

/** Users `seed-user-0001…` with their tasks; returns their ids and how many tasks were new. */
export async function seedDatabase(options: {
  db: Db;
  users: number;
  tasksPerUser: number;
  log: (message: string) => void;
}): Promise<{ userIds: string[]; created: number }> {
  const { db, users, tasksPerUser, log } = options;
  const userIds = Array.from(
    { length: users },
    (_, u) => `seed-user-${String(u + 1).padStart(4, "0")}`,
  );
  // Each users row comes with its Inbox (a trigger), where the seeded tasks go.
  await db.user.createMany({ data: userIds.map((id) => ({ id })), skipDuplicates: true });
  const inboxes = new Map(
    (
      await db.taskList.findMany({
        where: { userId: { in: userIds }, isDefault: true },
        select: { userId: true, id: true },
      })
    ).map((list) => [list.userId, list.id]),
  );
  let created = 0;
  let batch: ReturnType<typeof tasksOf> = [];
  const flush = async () => {
    created += (await db.task.createMany({ data: batch, skipDuplicates: true })).count;
    batch = [];
  };
  for (const [index, userId] of userIds.entries()) {
    const inbox = inboxes.get(userId);
    if (!inbox) throw new Error(`${userId} has no Inbox`);
    batch.push(...tasksOf(userId, inbox, tasksPerUser));
    if (batch.length >= ROWS_PER_INSERT) await flush();
    if ((index + 1) % 100 === 0 || index + 1 === users) log(`  ${index + 1}/${users} users`);
  }
  if (batch.length > 0) await flush();
  return { userIds, created };
}
