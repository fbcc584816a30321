import { LIST_COLUMNS } from "../list/sql.ts";
import { iso, purgeFeedTombstones, type Statement, setPositions } from "../sql.ts";
import { type Cursor, type FeedPosition, isDateSort } from "./cursor.ts";
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
 * A deleted task stays as a tombstone (`deleted_at` set) for the change feed until it is purged:
 * every statement but the feed's and the purge's reads and writes live rows only
 * (`deleted_at IS NULL`). Every insert and update also stamps `change_xid` (trigger
 * tasks_change_xid), the feed's order.
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
  position: "position",
};

/** A task row as the API's Task: the one definition of its columns and wire shape. */
const TASK_COLUMNS = `id::text AS "id", title, description, completed,
       ${iso("completed_at")} AS "completedAt", priority::text AS "priority",
       ${iso("due_at")} AS "dueAt", ${iso("created_at")} AS "createdAt",
       ${iso("updated_at")} AS "updatedAt", version,
       list_id::text AS "listId", parent_id::text AS "parentId",
       convert_from(position, 'UTF8') AS "position", COALESCE(labels, '{}') AS "labels"`;

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
  position: "text",
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
  const where = [`user_id = ${params.add(userId)}`, "deleted_at IS NULL"];
  if (input.status !== "all")
    where.push(input.status === "completed" ? "completed" : "NOT completed");
  if (input.priority) where.push(`priority = ${params.add(input.priority)}::"Priority"`);
  if (input.dueBefore) where.push(`due_at < ${params.add(input.dueBefore)}`);
  if (input.dueAfter) where.push(`due_at >= ${params.add(input.dueAfter)}`);
  if (input.q) {
    const pattern = params.add(`%${escapeLike(input.q)}%`);
    where.push(`(title ILIKE ${pattern} OR description ILIKE ${pattern})`);
  }
  if (input.listId) where.push(`list_id = ${params.add(input.listId)}::uuid`);
  if (input.parentId === null) where.push("parent_id IS NULL");
  else if (input.parentId) {
    const parent = params.add(input.parentId);
    where.push(`parent_id = ${parent}::uuid`);
    // Subtasks share their parent's list: naming it lets the (user, list, parent, position) index
    // serve the page.
    if (!input.listId) {
      where.push(
        `list_id = (SELECT parent.list_id FROM tasks AS parent WHERE parent.user_id = $1 AND parent.id = ${parent}::uuid)`,
      );
    }
  }
  if (input.label) {
    where.push(
      `EXISTS (SELECT 1 FROM unnest(labels) AS label WHERE lower(label) = lower(${params.add(input.label)}))`,
    );
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
      const cast = `${params.add(raw)}::${CAST[input.sort]}`;
      const value = input.sort === "position" ? `convert_to(${cast}, 'UTF8')` : cast;
      where.push(`(${key}, id) ${cmp} (${value}, ${params.add(cursor.id)}::uuid)`);
    }
    // (Position order leads with parent_id, constant within the sibling group listed: PostgreSQL
    // takes `parent_id IS NULL` as no constant, and would sort instead of reading the index in order.)
    const group = input.sort === "position" ? `tasks.parent_id ${dir}, ` : "";
    const order = `ORDER BY ${group}tasks.${key} ${dir}, tasks.id ${dir}`;
    return statement(
      `${SELECT}\n WHERE ${where.join(" AND ")}\n ${order}\n LIMIT ${params.add(take)}`,
      params,
    );
  };
  return input.sort === "dueAt" ? [keyed, undated(undefined)] : [keyed];
}

/**
 * A new task; completed_at is stamped when it is created completed. An id that is already taken
 * (a retried create with a client-chosen id, or anyone else's task) inserts nothing and returns no
 * row: `existingTask` then tells which.
 */
export function insertTask(values: {
  id: string;
  userId: string;
  listId: string;
  parentId: string | null;
  position: string;
  labels: string[];
  title: string;
  description: string | null;
  priority: string;
  dueAt: Date | null;
  completed: boolean;
  createDigest: Buffer | null;
}): Statement {
  return {
    name: "task_insert",
    text: `INSERT INTO tasks (id, user_id, title, description, priority, due_at, completed, completed_at,
                   create_digest, list_id, position, parent_id, labels)
VALUES ($1, $2, $3, $4, $5::"Priority", $6, $7::boolean, CASE WHEN $7::boolean THEN now() END, $8,
        $9::uuid, convert_to($10, 'UTF8'), $11::uuid, $12::varchar(50)[])
ON CONFLICT (id) DO NOTHING
RETURNING ${TASK_COLUMNS}`,
    values: [
      values.id,
      values.userId,
      values.title,
      values.description,
      values.priority,
      values.dueAt,
      values.completed,
      values.createDigest,
      values.listId,
      values.position,
      values.parentId,
      values.labels,
    ],
  };
}

/**
 * Where a new top-level task of the caller's Inbox goes: the Inbox's id and the key of its first
 * top-level task (null when it has none); the new task is placed before it. No row when the
 * caller has no users row (hence no Inbox).
 */
export function inboxFirstPlace(userId: string): Statement {
  return {
    name: "task_inbox_first",
    text: `SELECT lists.id::text AS "listId",
       (SELECT convert_from(tasks.position, 'UTF8') FROM tasks
         WHERE tasks.user_id = $1 AND tasks.list_id = lists.id AND tasks.parent_id IS NULL
           AND tasks.deleted_at IS NULL
         ORDER BY tasks.parent_id, tasks.position, tasks.id LIMIT 1) AS "first"
  FROM lists
 WHERE lists.user_id = $1 AND lists.is_default AND lists.deleted_at IS NULL`,
    values: [userId],
  };
}

/** Where a task sits, in the words of the placement statements below. */
export type Siblings = { listId: string; parentId: string | null };

/**
 * `parent_id` of a sibling group, and its parameter. Statements reading a group in order sort by
 * parent_id first (constant within the group): PostgreSQL does not take `parent_id IS NULL` as a
 * constant, and without it would sort the group instead of reading the index in order.
 */
const parentIs = (parentId: string | null, params: Params) =>
  parentId === null ? "parent_id IS NULL" : `parent_id = ${params.add(parentId)}::uuid`;

/** The live tasks of a sibling group but the one being placed, as SQL conditions. */
const siblingsOf = (userId: string, group: Siblings, movingId: string, params: Params) => [
  `user_id = ${params.add(userId)}`,
  `list_id = ${params.add(group.listId)}::uuid`,
  parentIs(group.parentId, params),
  "deleted_at IS NULL",
  `id <> ${params.add(movingId)}::uuid`,
];

/**
 * Locks some of the caller's live lists for a placement in them (in id order, so two moves cannot
 * wait for each other): creates and moves there wait for each other, and a deletion of the list
 * waits for them. The ids found. Lists are locked before any task row, by every placement and
 * deletion.
 */
export function lockLists(userId: string, listIds: string[]): Statement {
  return {
    name: "task_lock_lists",
    text: `SELECT id::text AS "id" FROM lists
 WHERE user_id = $1 AND id = ANY ($2::uuid[]) AND deleted_at IS NULL
 ORDER BY id
   FOR NO KEY UPDATE`,
    values: [userId, listIds],
  };
}

/**
 * One of the caller's live tasks as a placement sees it: where it sits and its key. `lock`: FOR
 * SHARE (a parent: it cannot be deleted, moved or made a subtask until the placement commits).
 */
export function taskPlace(userId: string, taskId: string, lock: boolean): Statement {
  return {
    name: lock ? "task_place_locked" : "task_place",
    text: `SELECT list_id::text AS "listId", parent_id::text AS "parentId",
       convert_from(position, 'UTF8') AS "position"
  FROM tasks
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL${lock ? "\n   FOR SHARE" : ""}`,
    values: [userId, taskId],
  };
}

/**
 * The task a move is about, locked until the move commits: where it sits, its key, its version,
 * and whether it has live subtasks. No row: no such task of the caller's.
 */
export function lockTaskForMove(userId: string, taskId: string): Statement {
  return {
    name: "task_lock_for_move",
    text: `SELECT list_id::text AS "listId", parent_id::text AS "parentId", version,
       convert_from(position, 'UTF8') AS "position",
       EXISTS (SELECT 1 FROM tasks AS sub
                WHERE sub.user_id = tasks.user_id AND sub.list_id = tasks.list_id
                  AND sub.parent_id = tasks.id AND sub.deleted_at IS NULL) AS "hasSubtasks"
  FROM tasks
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
   FOR NO KEY UPDATE`,
    values: [userId, taskId],
  };
}

/**
 * The first sibling after `after` (a key and the id it belongs to; null: from the start), its id
 * and key, leaving out the task being moved. No row: `after` is the last.
 */
export function nextSibling(
  userId: string,
  group: Siblings,
  after: { position: string; id: string } | null,
  movingId: string,
): Statement {
  const params = new Params();
  const where = siblingsOf(userId, group, movingId, params);
  if (after) {
    const key = `convert_to(${params.add(after.position)}::text, 'UTF8')`;
    where.push(`(position, id) > (${key}, ${params.add(after.id)}::uuid)`);
  }
  const text = `SELECT id::text AS "id", convert_from(position, 'UTF8') AS "position" FROM tasks
 WHERE ${where.join(" AND ")}
 ORDER BY tasks.parent_id, tasks.position, tasks.id LIMIT 1`;
  return statement(text, params);
}

/** The ids of a sibling group's live tasks in order, leaving out the task being moved. */
export function siblingIds(userId: string, group: Siblings, movingId: string): Statement {
  const params = new Params();
  const where = siblingsOf(userId, group, movingId, params);
  const text = `SELECT id::text AS "id" FROM tasks
 WHERE ${where.join(" AND ")}
 ORDER BY tasks.parent_id, tasks.position, tasks.id`;
  return statement(text, params);
}

/** A rebalance of one of the caller's sibling groups of tasks (see setPositions). */
export const setTaskPositions = (userId: string, ids: string[], keys: string[]): Statement =>
  setPositions("tasks", userId, ids, keys);

/**
 * Moves one of the caller's tasks (locked by lockTaskForMove) to its new place: a new version.
 * Its subtasks follow it to another list (trigger tasks_subtasks_follow).
 */
export function moveTaskStatement(
  userId: string,
  taskId: string,
  to: Siblings & { position: string },
): Statement {
  return {
    name: "task_move",
    text: `UPDATE tasks
   SET list_id = $3::uuid, parent_id = $4::uuid, position = convert_to($5, 'UTF8'),
       version = version + 1, updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
RETURNING ${TASK_COLUMNS}`,
    values: [userId, taskId, to.listId, to.parentId, to.position],
  };
}

/** The caller's labels on live tasks with how many carry each, grouped ignoring case. */
export function labelCountsStatement(userId: string): Statement {
  return {
    name: "task_label_counts",
    text: `SELECT min(label) AS "label", count(*)::int AS "count"
  FROM tasks, unnest(tasks.labels) AS label
 WHERE tasks.user_id = $1 AND tasks.deleted_at IS NULL
 GROUP BY lower(label)
 ORDER BY lower(label)`,
    values: [userId],
  };
}

/**
 * The task holding an id a create could not take: whether it is the caller's, a tombstone, and
 * created with the same fields (the digest), and the task itself. Nothing of it leaves the domain
 * unless it is the caller's.
 */
export function existingTask(
  userId: string,
  taskId: string,
  createDigest: Buffer | null,
): Statement {
  return {
    name: "task_existing",
    text: `SELECT user_id = $2 AS "mine", deleted_at IS NOT NULL AS "deleted",
       create_digest IS NOT DISTINCT FROM $3::bytea AS "sameCreate", ${TASK_COLUMNS}
  FROM tasks
 WHERE id = $1::uuid`,
    values: [taskId, userId, createDigest],
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
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
   AND ($3::int IS NULL OR version = $3::int)
RETURNING ${TASK_COLUMNS}`,
    values: [userId, taskId, version],
  };
}

/** One of the caller's tasks. */
export function selectTask(userId: string, taskId: string): Statement {
  return {
    name: "task_by_id",
    text: `${SELECT}
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL`,
    values: [userId, taskId],
  };
}

/** Whether the caller has this task (to tell a stale version from a missing task). */
export function taskExists(userId: string, taskId: string): Statement {
  return {
    name: "task_exists",
    text: "SELECT 1 AS found FROM tasks WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL",
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
    labels: string[];
  },
): Statement {
  return {
    name: "task_update",
    text: `UPDATE tasks
   SET title = $4, description = $5, priority = $6::"Priority", due_at = $7::timestamptz,
       completed = $8::boolean, labels = $9::varchar(50)[],
       completed_at = CASE WHEN NOT $8::boolean THEN NULL
                           WHEN completed THEN completed_at
                           ELSE now() END,
       version = version + 1,
       updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL AND version = $3::int
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
      fields.labels,
    ],
  };
}

/**
 * Deletes one of the caller's tasks, only at the expected version when one is given: the row
 * becomes a tombstone (a new version, deleted_at stamped) that the change feed reports. Its
 * subtasks go with it (trigger tasks_subtasks_follow).
 */
export function deleteTaskStatement(
  userId: string,
  taskId: string,
  version: number | null,
): Statement {
  return {
    name: "task_delete",
    text: `UPDATE tasks
   SET deleted_at = now(), version = version + 1, updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
   AND ($3::int IS NULL OR version = $3::int)
RETURNING id::text AS "id"`,
    values: [userId, taskId, version],
  };
}

/**
 * Deletes (as tombstones) all of the caller's completed tasks in one statement, and the subtasks
 * of completed tasks with them, open or not (named here so that the count includes them; the
 * trigger would take them anyway).
 */
export function clearCompletedStatement(userId: string): Statement {
  return {
    name: "task_clear_completed",
    text: `UPDATE tasks
   SET deleted_at = now(), version = version + 1, updated_at = now()
 WHERE user_id = $1 AND deleted_at IS NULL
   AND (completed OR parent_id IN (SELECT parent.id FROM tasks AS parent
                                    WHERE parent.user_id = $1 AND parent.completed
                                      AND parent.parent_id IS NULL AND parent.deleted_at IS NULL))`,
    values: [userId],
  };
}

/**
 * One page of the caller's change feed after `after`, tasks and lists together in (change_xid, id)
 * order (the Inbox once it has changed), tombstones included, with the feed position of the user's newest purged tombstone, the
 * snapshot's xmin and xmax (no cursor can name a transaction at or past it), whether changes after
 * `after` are held back for now (always one row, with null change columns when there is no
 * change). Each change's task or list comes as JSON in the API's shape.
 *
 * Only rows written by transactions older than every transaction still running (the snapshot's
 * xmin) are read: a transaction still in flight may commit later with a smaller change_xid than a
 * row already read, and would otherwise fall behind a cursor unseen. Such rows show on a later
 * page, once nothing older is running; nothing that commits later can land behind the cursor.
 */
export function changesStatement(userId: string, after: FeedPosition, take: number): Statement {
  const since = (table: string) => `${table}.user_id = $1
       AND (${table}.change_xid, ${table}.id) > ($2::bigint, $3::uuid)`;
  // The Inbox as the user was born with it is not a change (it enters the feed once it changes).
  const changedList = "(lists.is_default IS NULL OR lists.version > 1)";
  return {
    name: "task_changes",
    text: `SELECT COALESCE(users.purged_xid, 0)::text AS "purgedXid",
       COALESCE(users.purged_id::text, '00000000-0000-0000-0000-000000000000') AS "purgedId",
       caller.xmin::text AS "xmin",
       caller.xmax::text AS "xmax",
       (EXISTS (SELECT 1 FROM tasks WHERE ${since("tasks")} AND change_xid >= caller.xmin)
        OR EXISTS (SELECT 1 FROM lists
                    WHERE ${since("lists")} AND ${changedList} AND change_xid >= caller.xmin))
         AS "withheld",
       page.*
  FROM (SELECT $1::text AS id,
               pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
               pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) AS caller
  LEFT JOIN users ON users.id = caller.id
  LEFT JOIN LATERAL (
    SELECT changed.xid::text AS "xid", changed.id::text AS "changeId", changed.kind,
           changed.deleted, changed.data
      FROM ((SELECT tasks.change_xid AS xid, tasks.id, 'task' AS kind,
                    tasks.deleted_at IS NOT NULL AS deleted,
                    CASE WHEN tasks.deleted_at IS NULL
                         THEN (SELECT to_json(task) FROM (SELECT ${TASK_COLUMNS}) AS task) END AS data
               FROM tasks
              WHERE ${since("tasks")} AND tasks.change_xid < caller.xmin
              ORDER BY tasks.change_xid, tasks.id
              LIMIT $4)
            UNION ALL
            (SELECT lists.change_xid, lists.id, 'list',
                    lists.deleted_at IS NOT NULL,
                    CASE WHEN lists.deleted_at IS NULL
                         THEN (SELECT to_json(list) FROM (SELECT ${LIST_COLUMNS}) AS list) END
               FROM lists
              WHERE ${since("lists")} AND ${changedList} AND lists.change_xid < caller.xmin
              ORDER BY lists.change_xid, lists.id
              LIMIT $4)) AS changed
     ORDER BY changed.xid, changed.id
     LIMIT $4
  ) AS page ON true`,
    values: [userId, after.xid, after.id, take],
  };
}

/** One tombstone purger at a time across instances: a transaction-level lock, never waited for. */
export const purgeLock: Statement = {
  name: "task_purge_lock",
  // (namespace, job): 'todo' in ASCII, 1 for tombstones.
  text: `SELECT pg_try_advisory_xact_lock(1953457263, 1) AS "locked"`,
  values: [],
};

/**
 * Purges up to `batch` task tombstones past the retention, of every user, and moves each affected
 * user's feed horizon past them (purgeFeedTombstones). A parent goes after its subtasks'
 * tombstones (a later batch or round): deleting it first would cascade to them without moving the
 * horizon past them.
 */
export function purgeTombstonesStatement(retentionDays: number, batch: number): Statement {
  const ready = `NOT EXISTS (SELECT 1 FROM tasks AS sub
                      WHERE sub.user_id = tasks.user_id AND sub.list_id = tasks.list_id
                        AND sub.parent_id = tasks.id)`;
  return purgeFeedTombstones("tasks", ready, retentionDays, batch);
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
 WHERE user_id = $1 AND deleted_at IS NULL`,
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
