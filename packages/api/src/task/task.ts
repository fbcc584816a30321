import { randomUUID } from "node:crypto";
import { type Db, Prisma } from "@todo/db/client";
import { AppError, taskNotFound } from "../errors.ts";
import { ensureUser, recreateUser } from "../user/user.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  TASK_DEFAULTS,
  type TaskCreate,
  type TaskDto,
  type TaskListInput,
  type TaskPage,
  type TaskStats,
  type TaskUpdate,
} from "./schemas.ts";
import { insertTask, listStatements, toggleStatement } from "./sql.ts";

// Every column a client may see, and nothing else (userId is implied by the caller).
const taskSelect = {
  id: true,
  title: true,
  description: true,
  completed: true,
  completedAt: true,
  priority: true,
  dueAt: true,
  createdAt: true,
  updatedAt: true,
  version: true,
} satisfies Prisma.TaskSelect;

type TaskRow = Prisma.TaskGetPayload<{ select: typeof taskSelect }>;

type Scope = { db: Db; userId: string };

export function toTaskDto(row: TaskRow): TaskDto {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    completedAt: row.completedAt?.toISOString() ?? null,
    priority: row.priority,
    dueAt: row.dueAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

const isPrismaError = (error: unknown, code: string) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;

/** PostgreSQL's foreign_key_violation, from a statement sent through pg. */
const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error && (error as { code?: string }).code === "23503";

/** One page of the caller's tasks, filtered and sorted, with the cursor of the next page. */
export async function listTasks({
  db,
  userId,
  input,
}: Scope & { input: TaskListInput }): Promise<TaskPage> {
  const cursor = input.cursor ? decodeCursor(input.cursor, input.sort, input.order) : undefined;
  // limit + 1 rows: the extra one says whether there is a next page.
  const rows: TaskDto[] = [];
  for (const statement of listStatements(userId, input, cursor)) {
    const take = input.limit + 1 - rows.length;
    if (take <= 0) break;
    const { rows: found } = await db.pool.query<TaskDto>(statement(take));
    rows.push(...found);
  }
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > input.limit && last
      ? encodeCursor({
          sort: input.sort,
          order: input.order,
          value: last[input.sort],
          id: last.id,
        })
      : null;
  return { items, nextCursor };
}

export async function getTask({ db, userId, taskId }: Scope & { taskId: string }) {
  const row = await db.task.findFirst({ where: { id: taskId, userId }, select: taskSelect });
  if (!row) throw taskNotFound();
  return toTaskDto(row);
}

export async function createTask({
  db,
  userId,
  input,
}: Scope & { input: TaskCreate }): Promise<TaskDto> {
  const statement = insertTask({
    id: randomUUID(),
    userId,
    title: input.title,
    description: input.description ?? TASK_DEFAULTS.description,
    priority: input.priority ?? TASK_DEFAULTS.priority,
    dueAt: input.dueAt ?? TASK_DEFAULTS.dueAt,
    completed: input.completed ?? TASK_DEFAULTS.completed,
  });
  // The subject's first write creates its users row (once per process; later a cache hit).
  await ensureUser({ db, userId });
  try {
    return (await db.pool.query<TaskDto>(statement)).rows[0] as TaskDto;
  } catch (error) {
    // The users row vanished behind the cache (a reset database): recreate it once.
    if (!isForeignKeyViolation(error)) throw error;
    await recreateUser({ db, userId });
    return (await db.pool.query<TaskDto>(statement)).rows[0] as TaskDto;
  }
}

const MAX_ATTEMPTS = 5;

const staleVersion = () =>
  new AppError("CONFLICT", "Task was changed since that version; reload it and retry");

/**
 * Read-modify-write of one task, guarded by its version so that concurrent changes are never lost:
 * the write applies only if nobody changed the task since it was read. With `expectedVersion` a
 * stale caller gets CONFLICT; without it, the change is re-applied to the fresh row.
 * `change` returns null when nothing needs writing.
 */
async function mutateTask({
  db,
  userId,
  taskId,
  expectedVersion,
  change,
}: Scope & {
  taskId: string;
  expectedVersion?: number;
  change: (current: TaskRow) => Prisma.TaskUpdateInput | null;
}): Promise<TaskDto> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await db.task.findFirst({ where: { id: taskId, userId }, select: taskSelect });
    if (!current) throw taskNotFound();
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw staleVersion();
    }
    const data = change(current);
    if (data === null) return toTaskDto(current);
    try {
      const row = await db.task.update({
        where: { id: taskId, userId, version: current.version },
        data: { ...data, version: { increment: 1 } },
        select: taskSelect,
      });
      return toTaskDto(row);
    } catch (error) {
      // P2025: changed or deleted since it was read; the next round decides which.
      if (!isPrismaError(error, "P2025")) throw error;
    }
  }
  throw new AppError("CONFLICT", "Task is being changed concurrently; retry");
}

function completion(current: TaskRow, completed: boolean) {
  if (completed === current.completed) return { completed, completedAt: current.completedAt };
  return { completed, completedAt: completed ? new Date() : null };
}

export async function updateTask({
  db,
  userId,
  input,
}: Scope & { input: TaskUpdate }): Promise<TaskDto> {
  const { id, version, completed, ...fields } = input;
  return mutateTask({
    db,
    userId,
    taskId: id,
    expectedVersion: version,
    change: (current) => ({
      ...fields,
      ...(completed === undefined ? {} : completion(current, completed)),
    }),
  });
}

export async function setTaskCompleted({
  db,
  userId,
  taskId,
  completed,
}: Scope & { taskId: string; completed: boolean }): Promise<TaskDto> {
  return mutateTask({
    db,
    userId,
    taskId,
    change: (current) => (current.completed === completed ? null : completion(current, completed)),
  });
}

/**
 * One statement (sql.ts): concurrent toggles of one task queue on its row lock, so none is lost
 * and none needs the read-and-retry of mutateTask (which, under contention, could give up with
 * CONFLICT).
 */
export async function toggleTask({
  db,
  userId,
  taskId,
  version,
}: Scope & { taskId: string; version?: number }): Promise<TaskDto> {
  const { rows } = await db.pool.query<TaskDto>(toggleStatement(userId, taskId, version ?? null));
  const row = rows[0];
  if (row) return row;
  if (version !== undefined && (await db.task.count({ where: { id: taskId, userId } })) > 0) {
    throw staleVersion();
  }
  throw taskNotFound();
}

export async function deleteTask({
  db,
  userId,
  taskId,
  version,
}: Scope & { taskId: string; version?: number }) {
  const { count } = await db.task.deleteMany({ where: { id: taskId, userId, version } });
  if (count > 0) return { id: taskId };
  // Nothing deleted: missing (or someone else's), or at another version than expected.
  if (version !== undefined && (await db.task.count({ where: { id: taskId, userId } })) > 0) {
    throw staleVersion();
  }
  throw taskNotFound();
}

/** Counts of the caller's tasks; overdue means open with a due date in the past. */
export async function getTaskStats({ db, userId }: Scope): Promise<TaskStats> {
  const rows = await db.$queryRaw<TaskStats[]>`
    SELECT count(*)::int AS "total",
           count(*) FILTER (WHERE NOT completed)::int AS "open",
           count(*) FILTER (WHERE completed)::int AS "completed",
           count(*) FILTER (WHERE NOT completed AND due_at < now())::int AS "overdue"
      FROM tasks
     WHERE user_id = ${userId}`;
  return rows[0] ?? { total: 0, open: 0, completed: 0, overdue: 0 };
}
