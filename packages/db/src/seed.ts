// Demo data, idempotently: ids are derived from the seed's own numbering, so seeding again adds
// nothing. Used by `pnpm db:seed` (apps/server/scripts/seed.ts, which also prints tokens).
import { createHash } from "node:crypto";
import { generateNKeysBetween } from "fractional-indexing";
import type { Db } from "./client.ts";

/** A stable UUID (version 4 layout) for a seed key: a user's i-th task, or one of their lists. */
function seedUuid(key: string): string {
  const h = createHash("sha256").update(key).digest("hex");
  const variant = ((Number.parseInt(h[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The lists every seeded user gets after the Inbox, in this order. */
export const SEED_LISTS = [
  { name: "Work", color: "#2563eb" },
  { name: "Personal", color: "#16a34a" },
  { name: "Groceries", color: "#ea580c" },
] as const;
export const SEED_LABELS = ["work", "home", "errand", "urgent"] as const;

// Top-level titles by list (the Inbox, then SEED_LISTS), and the titles of a task's subtasks.
const TITLES = [
  ["Call the bank", "Book flights", "Reply to emails", "Renew the passport"],
  ["Write report", "Prepare the slides", "Review the budget", "Plan the sprint"],
  ["Fix the bike", "Go for a run", "Read a book", "Call mum"],
  ["Buy milk", "Buy bread", "Buy apples", "Buy coffee"],
] as const;
const STEPS = ["Plan", "Do", "Check"] as const;
/** How many subtasks the b-th top-level task gets, cyclically (at most 3). */
const SUBTASKS = [0, 2, 0, 0, 1, 0, 0, 3, 0] as const;
const PRIORITIES = ["low", "medium", "high"] as const;
const DAY = 86_400_000;
const ROWS_PER_INSERT = 5_000;

/** Where a user's i-th task goes: list (0: the Inbox), parent (a task number), rank among siblings. */
export type SeedPlace = { list: number; parent: number | null; rank: number };

/**
 * Where each of a user's tasks goes, the same for every user: a top-level task, then its
 * subtasks, the top-level tasks taking the lists in turn. Task i's place depends on i alone, not on
 * how many tasks are seeded, so seeding again with more tasks extends the earlier layout (a new
 * subtask's parent is already where it expects it).
 */
export function seedLayout(tasksPerUser: number): SeedPlace[] {
  const places: SeedPlace[] = [];
  const listSizes: number[] = Array.from({ length: 1 + SEED_LISTS.length }, () => 0);
  for (let block = 0; places.length < tasksPerUser; block++) {
    const list = block % listSizes.length;
    const parent = places.length;
    places.push({ list, parent: null, rank: listSizes[list] ?? 0 });
    listSizes[list] = (listSizes[list] ?? 0) + 1;
    const steps = SUBTASKS[block % SUBTASKS.length] ?? 0;
    for (let rank = 0; rank < steps && places.length < tasksPerUser; rank++) {
      places.push({ list, parent, rank });
    }
  }
  return places;
}

type TaskRow = {
  id: string;
  user_id: string;
  /** The task's list; a subtask takes its parent's instead. */
  list_id: string;
  parent_id: string | null;
  position: string;
  labels: string[];
  title: string;
  description: string | null;
  priority: (typeof PRIORITIES)[number];
  completed: boolean;
  completed_at: string | null;
  due_at: string | null;
};

/** A user's tasks; `keys[r]` is the position of a task ranked r among its siblings. */
function tasksOf(
  userId: string,
  listIds: string[],
  layout: SeedPlace[],
  keys: string[],
): TaskRow[] {
  const now = Date.now();
  return layout.map(({ list, parent, rank }, i) => {
    const completed = i % 3 === 0;
    const firstLabel = Math.floor(i / 4);
    return {
      id: seedUuid(`${userId}:${i}`),
      user_id: userId,
      list_id: listIds[list] as string,
      parent_id: parent === null ? null : seedUuid(`${userId}:${parent}`),
      position: keys[rank] as string,
      // Consecutive labels of the set, at most 3 of the 4: never the same one twice.
      labels: Array.from(
        { length: i % 4 },
        (_, k) => SEED_LABELS[(firstLabel + k) % SEED_LABELS.length] as string,
      ),
      title:
        parent === null
          ? `${TITLES[list]?.[rank % 4]} #${i + 1}`
          : `${STEPS[rank % STEPS.length]} #${parent + 1}`,
      description: i % 2 === 0 ? "Seeded task" : null,
      priority: PRIORITIES[i % PRIORITIES.length] ?? "medium",
      completed,
      completed_at: completed ? new Date(now - i * DAY).toISOString() : null,
      due_at: i % 4 === 0 ? null : new Date(now + ((i % 14) - 7) * DAY).toISOString(),
    };
  });
}

const TASK_ROWS = `jsonb_to_recordset($1::jsonb) AS t(
  id uuid, user_id varchar(255), list_id uuid, parent_id uuid, position text, labels varchar(50)[],
  title varchar(200), description varchar(10000), priority "Priority", completed boolean,
  completed_at timestamptz, due_at timestamptz)`;
const TASK_COLUMNS = `id, user_id, list_id, parent_id, position, labels, title, description, priority,
  completed, completed_at, due_at`;
const TASK_VALUES = (list: string) => `t.id, t.user_id, ${list}, t.parent_id,
  convert_to(t.position, 'UTF8'), t.labels, t.title, t.description, t.priority, t.completed,
  t.completed_at, t.due_at`;

// Rows already there are kept as they are (ON CONFLICT DO NOTHING), and none is proposed where the
// app has since changed things: no new task in a deleted list, no subtask of a deleted parent. A
// subtask takes its parent's list, wherever the parent has been moved.
const INSERT_TOP_LEVEL = `INSERT INTO tasks (${TASK_COLUMNS})
  SELECT ${TASK_VALUES("t.list_id")} FROM ${TASK_ROWS}
    JOIN lists ON lists.user_id = t.user_id AND lists.id = t.list_id AND lists.deleted_at IS NULL
  ON CONFLICT DO NOTHING`;
const INSERT_SUBTASKS = `INSERT INTO tasks (${TASK_COLUMNS})
  SELECT ${TASK_VALUES("parent.list_id")} FROM ${TASK_ROWS}
    JOIN tasks parent ON parent.user_id = t.user_id AND parent.id = t.parent_id
      AND parent.parent_id IS NULL AND parent.deleted_at IS NULL
  ON CONFLICT DO NOTHING`;

/** `count` list keys after `key`, the Inbox's (from a0, where the Inbox starts, if not a key). */
function keysAfter(key: string, count: number): string[] {
  try {
    return generateNKeysBetween(key, null, count);
  } catch {
    return generateNKeysBetween("a0", null, count);
  }
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

/**
 * Users `seed-user-0001…`, each with the Inbox and SEED_LISTS, and tasks spread over them (some
 * with subtasks, most with labels); returns the users' ids and how many tasks and lists were new.
 */
export async function seedDatabase(options: {
  db: Db;
  users: number;
  tasksPerUser: number;
  log: (message: string) => void;
}): Promise<{ userIds: string[]; created: number; createdLists: number }> {
  const { db, users, tasksPerUser, log } = options;
  const userIds = Array.from(
    { length: users },
    (_, u) => `seed-user-${String(u + 1).padStart(4, "0")}`,
  );
  // Each users row comes with its Inbox (a trigger); the seeded lists follow it.
  await db.user.createMany({ data: userIds.map((id) => ({ id })), skipDuplicates: true });
  const inboxes = new Map(
    (
      await db.taskList.findMany({
        where: { userId: { in: userIds }, isDefault: true },
        select: { userId: true, id: true, position: true },
      })
    ).map((list) => [list.userId, list]),
  );
  const listIds = new Map<string, string[]>();
  const lists = userIds.flatMap((userId) => {
    const inbox = inboxes.get(userId);
    if (!inbox) throw new Error(`${userId} has no Inbox`);
    const keys = keysAfter(Buffer.from(inbox.position).toString("latin1"), SEED_LISTS.length);
    const rows = SEED_LISTS.map(({ name, color }, l) => ({
      id: seedUuid(`${userId}:list:${name}`),
      userId,
      name,
      color,
      position: Buffer.from(keys[l] as string),
    }));
    listIds.set(userId, [inbox.id, ...rows.map((row) => row.id)]);
    return rows;
  });
  let createdLists = 0;
  for (let start = 0; start < lists.length; start += ROWS_PER_INSERT) {
    const data = lists.slice(start, start + ROWS_PER_INSERT);
    createdLists += (await db.taskList.createMany({ data, skipDuplicates: true })).count;
  }

  const layout = seedLayout(tasksPerUser);
  // Sibling groups never outnumber the tasks; a rank's key is the same whatever the count.
  const keys = generateNKeysBetween(null, null, tasksPerUser);
  let created = 0;
  let batch: TaskRow[] = [];
  const flush = async () => {
    // Parents first: a subtask's parent must already be in its list.
    for (const [sql, rows] of [
      [INSERT_TOP_LEVEL, batch.filter((row) => row.parent_id === null)],
      [INSERT_SUBTASKS, batch.filter((row) => row.parent_id !== null)],
    ] as const) {
      if (rows.length > 0)
        created += (await db.pool.query(sql, [JSON.stringify(rows)])).rowCount ?? 0;
    }
    batch = [];
  };
  for (const [index, userId] of userIds.entries()) {
    batch.push(...tasksOf(userId, listIds.get(userId) ?? [], layout, keys));
    if (batch.length >= ROWS_PER_INSERT) await flush();
    if ((index + 1) % 100 === 0 || index + 1 === users) log(`  ${index + 1}/${users} users`);
  }
  if (batch.length > 0) await flush();
  return { userIds, created, createdLists };
}
