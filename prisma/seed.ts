// Fills a database with demo users and tasks, idempotently: ids are derived from the seed's own
// numbering, so running it again adds nothing. Usage: pnpm db:seed [--users N] [--tasks M]
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { createDb } from "../packages/db/src/client.ts";

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

const url =
  process.env.DIRECT_URL || process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/todo";
const { db, close } = createDb({ url });
try {
  const userIds = Array.from(
    { length: users },
    (_, u) => `seed-user-${String(u + 1).padStart(4, "0")}`,
  );
  await db.user.createMany({ data: userIds.map((id) => ({ id })), skipDuplicates: true });
  let created = 0;
  for (const userId of userIds) {
    const data = Array.from({ length: tasksPerUser }, (_, i) => {
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
    created += (await db.task.createMany({ data, skipDuplicates: true })).count;
  }
  console.error(`Seeded ${users} users; ${created} new tasks (existing ones were kept).`);
  console.error(`A token for the first one: pnpm token ${userIds[0]}`);
} finally {
  await close();
}
