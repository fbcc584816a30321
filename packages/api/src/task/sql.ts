import { iso, type Statement } from "../sql.ts";
import { type Cursor, isDateSort } from "./cursor.ts";
import type { TaskListInput, TaskSort } from "./schemas.ts";

/**
 * All SQL of the task domain, sent through pg as named prepared statements: PostgreSQL plans each
 * shape once per connection and returns rows already shaped as the API's Task (ISO 8601 dates in
 * UTC), with no ORM work in between (docs/decisions/0003-hot-queries-sql.md).
 *
 * Every list statement starts with `user_id = $1`, and every write names the caller's id in its
 * WHERE clause or its values: the caller's id is a parameter of every shape, and nothing in the
 * input can change that.
 *
 * A page is one or two index range scans on the (user_id, <sort>, id) indexes, O(log n + page)
 * however deep the page: after a cursor, the row comparison `(key, id) > (v, c)` is an index
 * condition. Due dates are split into dated and undated rows (undated last in both orders).
 */

export type { Statement };

const COLUMN: Record<TaskSort, string> = {
  createdAt: "created_at",
  updatedAt: "updated_at",
  dueAt: "due_at",
  priority: "priority",
  title: "title",
};

/** A task row as the API's Task: the one definition of its columns and wire shape. */
const TASK_COLUMNS = `id::text AS "id", title, description, completed,
       ${iso("completed_at")} AS "completedAt", priority::text AS "priority",
       ${iso("due_at")} AS "dueAt", ${iso("created_at")} AS "createdAt",
       ${iso("updated_at")} AS "updatedAt", version`;

// ORDER BY names columns as tasks.<column>: a bare name would mean the output column of that name
// (id as text, priority as text), sorted as text instead of by the index.
const SELECT = `SELECT ${TASK_COLUMNS}\n  FROM tasks`;

/** Each cursor sort value's SQL type, for the row comparison's parameter. */
const CAST: Record<TaskSort, string> = {
  createdAt: "timestamptz",
  updatedAt: "timestamptz",
  dueAt: "timestamptz",
  priority: '"Priority"',
  title: "text",
};

// LIKE treats % and _ as wildcards and \ as the escape; a search is for the literal text.
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The filters as SQL conditions; every shape's first parameter is the user id. */
function filters(userId: string, input: TaskListInput, params: Params): string[] {
  const where = [`user_id = ${params.add(userId)}`];
  if (input.status !== "all")
    where.push(input.status === "completed" ? "completed" : "NOT completed");
  if (input.priority) where.push(`priority = ${params.add(input.priority)}::"Priority"`);
  if (input.dueBefore) where.push(`due_at < ${params.add(input.dueBefore)}`);
  if (input.dueAfter) where.push(`due_at >= ${params.add(input.dueAfter)}`);
  if (input.q) {
    const pattern = params.add(`%${escapeLike(input.q)}%`);
    where.push(`(title ILIKE ${pattern} OR description ILIKE ${pattern})`);
  }
  return where;
}

// Statement names by text: a shape is prepared once per pooled connection and then only bound.
const names = new Map<string, string>();
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `task_list_${names.size + 1}`;
    names.set(text, name);
  }
  return name;
}

function statement(text: string, params: Params): Statement {
  return { name: nameOf(text), text, values: params.values };
}

/**
 * The statements that read one page, each given how many rows it may still add (they are read in
 * turn until the page is full): one, or two for the due-date sort (dated rows, then undated ones).
 */
export function listStatements(
  userId: string,
  input: TaskListInput,
  cursor: Cursor | undefined,
): Array<(take: number) => Statement> {
  const dir = input.order === "asc" ? "ASC" : "DESC";
  const cmp = input.order === "asc" ? ">" : "<";
  const key = COLUMN[input.sort];

  const undated = (after: string | undefined) => (take: number) => {
    const params = new Params();
    const where = [...filters(userId, input, params), "due_at IS NULL"];
    if (after !== undefined) where.push(`id ${cmp} ${params.add(after)}::uuid`);
    // Ordering undated rows by the (all null) due date too lets PostgreSQL read them in index
    // order instead of sorting them.
    const order = `ORDER BY tasks.due_at ${dir}, tasks.id ${dir}`;
    return statement(
      `${SELECT}\n WHERE ${where.join(" AND ")}\n ${order}\n LIMIT ${params.add(take)}`,
      params,
    );
  };
  if (input.sort === "dueAt" && cursor && cursor.value === null) return [undated(cursor.id)];

  const keyed = (take: number) => {
    const params = new Params();
    const where = filters(userId, input, params);
    if (input.sort === "dueAt") where.push("due_at IS NOT NULL");
    if (cursor) {
      // A date goes to pg as a Date (the cursor's text was only checked by Date.parse, which
      // accepts forms PostgreSQL would refuse).
      const raw = isDateSort(input.sort) ? new Date(cursor.value as string) : cursor.value;
      const value = `${params.add(raw)}::${CAST[input.sort]}`;
      where.push(`(${key}, id) ${cmp} (${value}, ${params.add(cursor.id)}::uuid)`);
    }
    const order = `ORDER BY tasks.${key} ${dir}, tasks.id ${dir}`;
    return statement(
      `${SELECT}\n WHERE ${where.join(" AND ")}\n ${order}\n LIMIT ${params.add(take)}`,
      params,
    );
  };
  return input.sort === "dueAt" ? [keyed, undated(undefined)] : [keyed];
}

/** A new task; completed_at is stamped when it is created completed. */
export function insertTask(values: {
  id: string;
  userId: string;
  title: string;
  description: string | null;
  priority: string;
  dueAt: Date | null;
  completed: boolean;
}): Statement {
  return {
    name: "task_insert",
    text: `INSERT INTO tasks (id, user_id, title, description, priority, due_at, completed, completed_at)
VALUES ($1, $2, $3, $4, $5::"Priority", $6, $7::boolean, CASE WHEN $7::boolean THEN now() END)
RETURNING ${TASK_COLUMNS}`,
    values: [
      values.id,
      values.userId,
      values.title,
      values.description,
      values.priority,
      values.dueAt,
      values.completed,
    ],
  };
}

/**
 * One statement: flips the flag, stamps or clears completed_at and bumps the version, only at the
 * expected version when one is given.
 */
export function toggleStatement(userId: string, taskId: string, version: number | null): Statement {
  return {
    name: "task_toggle",
    text: `UPDATE tasks
   SET completed = NOT completed,
       completed_at = CASE WHEN completed THEN NULL ELSE now() END,
       version = version + 1,
       updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND ($3::int IS NULL OR version = $3::int)
RETURNING ${TASK_COLUMNS}`,
    values: [userId, taskId, version],
  };
}

/** One of the caller's tasks. */
export function selectTask(userId: string, taskId: string): Statement {
  return {
    name: "task_by_id",
    text: `${SELECT}
 WHERE user_id = $1 AND id = $2::uuid`,
    values: [userId, taskId],
  };
}

/** Whether the caller has this task (to tell a stale version from a missing task). */
export function taskExists(userId: string, taskId: string): Statement {
  return {
    name: "task_exists",
    text: "SELECT 1 AS found FROM tasks WHERE user_id = $1 AND id = $2::uuid",
    values: [userId, taskId],
  };
}

/**
 * Writes a task's editable fields, only if it is still at `version` (read-modify-write without
 * lost updates); completed_at is stamped when it becomes completed, cleared when it stops.
 */
export function updateTaskStatement(
  userId: string,
  taskId: string,
  version: number,
  fields: {
    title: string;
    description: string | null;
    priority: string;
    dueAt: Date | string | null;
    completed: boolean;
  },
): Statement {
  return {
    name: "task_update",
    text: `UPDATE tasks
   SET title = $4, description = $5, priority = $6::"Priority", due_at = $7::timestamptz,
       completed = $8::boolean,
       completed_at = CASE WHEN NOT $8::boolean THEN NULL
                           WHEN completed THEN completed_at
                           ELSE now() END,
       version = version + 1,
       updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND version = $3::int
RETURNING ${TASK_COLUMNS}`,
    values: [
      userId,
      taskId,
      version,
      fields.title,
      fields.description,
      fields.priority,
      fields.dueAt,
      fields.completed,
    ],
  };
}

/** Deletes one of the caller's tasks, only at the expected version when one is given. */
export function deleteTaskStatement(
  userId: string,
  taskId: string,
  version: number | null,
): Statement {
  return {
    name: "task_delete",
    text: `DELETE FROM tasks
 WHERE user_id = $1 AND id = $2::uuid AND ($3::int IS NULL OR version = $3::int)
RETURNING id::text AS "id"`,
    values: [userId, taskId, version],
  };
}

/** Counts of the caller's tasks; overdue means open with a due date in the past. */
export function taskStatsStatement(userId: string): Statement {
  return {
    name: "task_stats",
    text: `SELECT count(*)::int AS "total",
       count(*) FILTER (WHERE NOT completed)::int AS "open",
       count(*) FILTER (WHERE completed)::int AS "completed",
       count(*) FILTER (WHERE NOT completed AND due_at < now())::int AS "overdue"
  FROM tasks
 WHERE user_id = $1`,
    values: [userId],
  };
}

/**
 * Readiness: the same pool and statement path as the task queries, on the tasks table, so an
 * unreachable database, a missing migration or a broken session all answer "not ready".
 */
export const readinessProbe: Statement = {
  name: "health_ready",
  text: "SELECT count(*)::int AS n FROM (SELECT 1 FROM tasks WHERE user_id = $1 LIMIT 1) AS probe",
  values: [""],
};
