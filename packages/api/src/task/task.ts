import { randomUUID } from "node:crypto";
import type { Db } from "@todo/db/client";
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
import {
  deleteTaskStatement,
  insertTask,
  listStatements,
  type Statement,
  selectTask,
  taskExists,
  taskStatsStatement,
  toggleStatement,
  updateTaskStatement,
} from "./sql.ts";

// Every operation is SQL from sql.ts, rows shaped there as the API's Task (TaskDto).

type Scope = { db: Db; userId: string };

const rowsOf = async <T>(db: Db, statement: Statement) =>
  (await db.pool.query(statement)).rows as T[];

/** PostgreSQL's foreign_key_violation. */
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
    rows.push(...(await rowsOf<TaskDto>(db, statement(take))));
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
  const [row] = await rowsOf<TaskDto>(db, selectTask(userId, taskId));
  if (!row) throw taskNotFound();
  return row;
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
    return (await rowsOf<TaskDto>(db, statement))[0] as TaskDto;
  } catch (error) {
    // The users row vanished behind the cache (a reset database): recreate it once.
    if (!isForeignKeyViolation(error)) throw error;
    await recreateUser({ db, userId });
    return (await rowsOf<TaskDto>(db, statement))[0] as TaskDto;
  }
}

const MAX_ATTEMPTS = 5;

/** How a stale expected version is answered: CONFLICT, or PRECONDITION_FAILED for If-Match. */
export type StaleCode = "CONFLICT" | "PRECONDITION_FAILED";

const staleVersion = (code: StaleCode = "CONFLICT") =>
  code === "CONFLICT"
    ? new AppError("CONFLICT", "Task was changed since that version; reload it and retry")
    : new AppError("PRECONDITION_FAILED", "If-Match does not match the task's ETag");

type Editable = Pick<TaskDto, "title" | "description" | "priority" | "completed"> & {
  dueAt: Date | string | null;
};

/**
 * Read-modify-write of one task, guarded by its version so that concurrent changes are never lost:
 * the write applies only if nobody changed the task since it was read. With `expectedVersion` a
 * stale caller gets CONFLICT; without it, the change is re-applied to the fresh row.
 * `change` returns the new editable fields, or null when nothing needs writing.
 */
async function mutateTask({
  db,
  userId,
  taskId,
  expectedVersion,
  staleCode,
  change,
}: Scope & {
  taskId: string;
  expectedVersion?: number;
  staleCode?: StaleCode;
  change: (current: TaskDto) => Editable | null;
}): Promise<TaskDto> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [current] = await rowsOf<TaskDto>(db, selectTask(userId, taskId));
    if (!current) throw taskNotFound();
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw staleVersion(staleCode);
    }
    const fields = change(current);
    if (fields === null) return current;
    const statement = updateTaskStatement(userId, taskId, current.version, fields);
    const [row] = await rowsOf<TaskDto>(db, statement);
    if (row) return row;
    // Changed or deleted since it was read; the next round decides which.
  }
  throw new AppError("CONFLICT", "Task is being changed concurrently; retry");
}

const editable = (task: TaskDto): Editable => ({
  title: task.title,
  description: task.description,
  priority: task.priority,
  dueAt: task.dueAt,
  completed: task.completed,
});

export async function updateTask({
  db,
  userId,
  input,
  staleCode,
}: Scope & { input: TaskUpdate; staleCode?: StaleCode }): Promise<TaskDto> {
  const { id, version, ...changes } = input;
  return mutateTask({
    db,
    userId,
    taskId: id,
    expectedVersion: version,
    staleCode,
    change: (current) => {
      const next = editable(current);
      for (const key of Object.keys(next) as (keyof Editable)[]) {
        if (changes[key] !== undefined) Object.assign(next, { [key]: changes[key] });
      }
      return next;
    },
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
    change: (current) =>
      current.completed === completed ? null : { ...editable(current), completed },
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
  staleCode,
}: Scope & { taskId: string; version?: number; staleCode?: StaleCode }): Promise<TaskDto> {
  const [row] = await rowsOf<TaskDto>(db, toggleStatement(userId, taskId, version ?? null));
  if (row) return row;
  return missingOrStale({ db, userId, taskId, version, staleCode });
}

/** Nothing matched: a stale version when the caller still has the task, else not found. */
async function missingOrStale({
  db,
  userId,
  taskId,
  version,
  staleCode,
}: Scope & { taskId: string; version?: number; staleCode?: StaleCode }): Promise<never> {
  if (version !== undefined && (await rowsOf(db, taskExists(userId, taskId))).length > 0) {
    throw staleVersion(staleCode);
  }
  throw taskNotFound();
}

export async function deleteTask({
  db,
  userId,
  taskId,
  version,
  staleCode,
}: Scope & { taskId: string; version?: number; staleCode?: StaleCode }) {
  const [deleted] = await rowsOf<{ id: string }>(
    db,
    deleteTaskStatement(userId, taskId, version ?? null),
  );
  if (deleted) return deleted;
  return missingOrStale({ db, userId, taskId, version, staleCode });
}

/** Counts of the caller's tasks; overdue means open with a due date in the past. */
export async function getTaskStats({ db, userId }: Scope): Promise<TaskStats> {
  const [stats] = await rowsOf<TaskStats>(db, taskStatsStatement(userId));
  return stats ?? { total: 0, open: 0, completed: 0, overdue: 0 };
}
