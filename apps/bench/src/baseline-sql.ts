// The SQL the baselines run: the same intent as the product's queries (live tasks only: a deleted
// task stays as a tombstone for the change feed), as named prepared statements (parsed and
// planned once per connection). The list page in manual order and the move run the product's own
// statements (its sql.ts builders), which return rows already in the API's task shape.
import { keyBetween, spread } from "@todo/api/order";
import { transaction } from "@todo/api/sql";
import type { TaskListInput } from "@todo/api/task/schemas";
import {
  listStatements,
  lockLists,
  lockTaskForMove,
  moveTaskStatement,
  nextSibling,
  type Siblings,
  selectTask,
  setTaskPositions,
  siblingIds,
  taskPlace,
} from "@todo/api/task/sql";
import { generateKeyBetween } from "fractional-indexing";
import type { Pool, PoolClient } from "pg";

// Every field of the API's task, as the product returns it (its list, parent, key and labels too).
const COLUMNS = `id, title, description, completed, completed_at, priority, due_at, created_at, updated_at,
  version, list_id, parent_id, convert_from(position, 'UTF8') AS position,
  COALESCE(labels, '{}') AS labels`;

export const LIST = {
  name: "bench_list",
  text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND deleted_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT 21`,
};
/** The Inbox and the key of its first top-level task: a new task is placed before it. */
export const INBOX_FIRST = {
  name: "bench_inbox_first",
  text: `SELECT lists.id,
                (SELECT convert_from(tasks.position, 'UTF8') FROM tasks
                  WHERE tasks.user_id = $1 AND tasks.list_id = lists.id AND tasks.parent_id IS NULL
                    AND tasks.deleted_at IS NULL
                  ORDER BY tasks.parent_id, tasks.position, tasks.id LIMIT 1) AS first
           FROM lists WHERE lists.user_id = $1 AND lists.is_default AND lists.deleted_at IS NULL`,
};
export const CREATE = {
  name: "bench_create",
  text: `INSERT INTO tasks (id, user_id, list_id, position, title, updated_at)
         VALUES (gen_random_uuid(), $1, $2, convert_to($3, 'UTF8'), $4, now())
         RETURNING ${COLUMNS}`,
};

/** A create as the product does it: where the new task goes first, then the insert. */
export async function createTask(pool: Pool, userId: string, title: string) {
  const { rows } = await pool.query({ ...INBOX_FIRST, values: [userId] });
  const place = rows[0] as { id: string; first: string | null };
  const position = generateKeyBetween(null, place.first);
  return (await pool.query({ ...CREATE, values: [userId, place.id, position, title] })).rows[0];
}
export const TOGGLE = {
  name: "bench_toggle",
  text: `UPDATE tasks SET completed = NOT completed,
                completed_at = CASE WHEN completed THEN NULL ELSE now() END,
                version = version + 1, updated_at = now()
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
};

type Row = Record<string, unknown> & { completed_at: Date | null; due_at: Date | null };

/** A row in the API's task shape (camelCase, ISO dates), as the product answers it. */
export function toTask(row: Row) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    completed: row.completed,
    completedAt: row.completed_at?.toISOString() ?? null,
    priority: row.priority,
    dueAt: row.due_at?.toISOString() ?? null,
    createdAt: (row.created_at as Date).toISOString(),
    updatedAt: (row.updated_at as Date).toISOString(),
    version: row.version,
    listId: row.list_id,
    parentId: row.parent_id,
    position: row.position,
    labels: row.labels,
  };
}

/** What the product's task.list makes of the first page of a list's top level in manual order. */
const POSITION_PAGE = {
  status: "all",
  parentId: null,
  sort: "position",
  order: "asc",
  limit: 20,
} as const satisfies Omit<TaskListInput, "listId">;

/** The first page (20) of a list's top-level tasks in manual order, as the product reads it. */
export async function listPage(pool: Pool, userId: string, listId: string) {
  const [page] = listStatements(userId, { ...POSITION_PAGE, listId }, undefined);
  if (!page) throw new Error("no statement for the page");
  // limit + 1 rows, as the product reads them (the extra one says whether there is a next page).
  const { rows } = await pool.query(page(POSITION_PAGE.limit + 1));
  return rows.slice(0, POSITION_PAGE.limit);
}

type Place = Siblings & { position: string };
type Keyed = { id: string; position: string };

/** Whether `a` sorts before `b` among siblings, as the product compares them. */
const sortsBefore = (a: Keyed, b: Keyed) =>
  a.position < b.position || (a.position === b.position && a.id < b.id);

/** Not found (404) or changed meanwhile (409), as the product answers them. */
export class MoveRefused extends Error {
  constructor(readonly status: 404 | 409) {
    super(status === 404 ? "not found" : "changed meanwhile");
  }
}

/**
 * A move right after `afterId` (null: first among the task's own siblings), as the product's
 * moveTask runs it, statement by statement in one transaction: where the task and `afterId` sit
 * (unlocked), the lists locked, the task locked, `afterId` read again, the next sibling's key, a
 * rebalance only when no short key is left, and the update. Of the product's checks, only those
 * that send no statement are left out.
 */
export async function moveTask(pool: Pool, userId: string, taskId: string, afterId: string | null) {
  return transaction(pool, (client) => moveIn(client, userId, taskId, afterId));
}

async function moveIn(tx: PoolClient, userId: string, taskId: string, afterId: string | null) {
  const placeOf = async (id: string, lock = false) =>
    (await tx.query<Place>(taskPlace(userId, id, lock))).rows[0];
  const from = await placeOf(taskId);
  if (!from) throw new MoveRefused(404);
  const after = afterId ? await placeOf(afterId) : null;
  if (afterId && !after) throw new MoveRefused(404);
  let to: Siblings = after
    ? { listId: after.listId, parentId: after.parentId }
    : { listId: from.listId, parentId: null };
  // A subtask stays under its parent, whose place the product reads.
  if (!after && from.parentId !== null) {
    const parent = await placeOf(from.parentId);
    if (!parent) throw new MoveRefused(404);
    to = { listId: parent.listId, parentId: from.parentId };
  }
  const locked = await tx.query<{ id: string }>(lockLists(userId, [from.listId, to.listId]));
  if (!locked.rows.some((l) => l.id === to.listId)) throw new MoveRefused(404);
  const [task] = (await tx.query<Place>(lockTaskForMove(userId, taskId))).rows;
  if (!task) throw new MoveRefused(404);
  if (task.listId !== from.listId) throw new MoveRefused(409);
  if (to.parentId !== null) await placeOf(to.parentId, true);
  let anchor: { id: string; position: string } | null = null;
  if (afterId) {
    const now = await placeOf(afterId);
    if (!now || now.listId !== to.listId || now.parentId !== to.parentId) {
      throw new MoveRefused(409);
    }
    anchor = { id: afterId, position: now.position };
  }
  const next = (await tx.query<Keyed>(nextSibling(userId, to, anchor, taskId))).rows[0];
  // Already in place: the product writes nothing and answers the task as it is.
  if (task.listId === to.listId && task.parentId === to.parentId) {
    const here = { id: taskId, position: task.position };
    if ((!anchor || sortsBefore(anchor, here)) && (!next || sortsBefore(here, next))) {
      return (await tx.query(selectTask(userId, taskId))).rows[0];
    }
  }
  let position = keyBetween(anchor?.position ?? null, next?.position ?? null);
  if (position === null) {
    const ids = (await tx.query<{ id: string }>(siblingIds(userId, to, taskId))).rows.map(
      (r) => r.id,
    );
    const { keys, placed } = spread(ids, anchor?.id ?? null);
    await tx.query(setTaskPositions(userId, ids, keys));
    position = placed;
  }
  const [moved] = (await tx.query(moveTaskStatement(userId, taskId, { ...to, position }))).rows;
  if (!moved) throw new MoveRefused(404);
  return moved;
}
