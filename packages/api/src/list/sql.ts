import { iso, purgeFeedTombstones, type Statement, setPositions } from "../sql.ts";

/**
 * All SQL of the list domain. Every statement names the caller's id (`user_id = $1`): nothing in
 * the input can reach another user's lists. A deleted list stays as a tombstone for the change
 * feed until it is purged, its tasks deleted with it (trigger lists_delete_tasks); the Inbox
 * cannot be deleted (trigger lists_keep_inbox). Every write stamps `change_xid` and notifies live
 * streams (trigger lists_change_xid), as a task's does.
 */

/**
 * A list row as the API's List: the one definition of its columns and wire shape. ORDER BY names
 * columns as lists.<column>: a bare name would mean the output column (the key as text).
 */
export const LIST_COLUMNS = `id::text AS "id", name, color,
       convert_from(position, 'UTF8') AS "position", COALESCE(is_default, false) AS "isDefault",
       version, ${iso("created_at")} AS "createdAt", ${iso("updated_at")} AS "updatedAt"`;

/** The caller's lists, in their order. */
export function listsStatement(userId: string): Statement {
  return {
    name: "list_all",
    text: `SELECT ${LIST_COLUMNS} FROM lists
 WHERE user_id = $1 AND deleted_at IS NULL
 ORDER BY lists.position, lists.id`,
    values: [userId],
  };
}

/** One of the caller's lists. */
export function listStatement(userId: string, listId: string): Statement {
  return {
    name: "list_by_id",
    text: `SELECT ${LIST_COLUMNS} FROM lists
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL`,
    values: [userId, listId],
  };
}

/**
 * Locks the caller's users row against other list creates until the transaction ends (a task's
 * insert is not held up: its foreign key check takes a weaker lock). No row: no users row.
 */
export function lockListsOf(userId: string): Statement {
  return {
    name: "list_lock_owner",
    text: "SELECT 1 AS locked FROM users WHERE id = $1 FOR NO KEY UPDATE",
    values: [userId],
  };
}

/**
 * How many live lists the caller has and the key of the last one: read after lockListsOf, so no
 * concurrent create is missed.
 */
export function listCountAndLast(userId: string): Statement {
  return {
    name: "list_count_last",
    text: `SELECT count(*)::int AS "count",
       (SELECT convert_from(position, 'UTF8') FROM lists
         WHERE user_id = $1 AND deleted_at IS NULL
         ORDER BY lists.position DESC, lists.id DESC LIMIT 1) AS "last"
  FROM lists
 WHERE user_id = $1 AND deleted_at IS NULL`,
    values: [userId],
  };
}

/** A new list; an id already taken inserts nothing and returns no row (see existingList). */
export function insertList(values: {
  id: string;
  userId: string;
  name: string;
  color: string | null;
  position: string;
}): Statement {
  return {
    name: "list_insert",
    text: `INSERT INTO lists (id, user_id, name, color, position)
VALUES ($1::uuid, $2, $3, $4, convert_to($5, 'UTF8'))
ON CONFLICT (id) DO NOTHING
RETURNING ${LIST_COLUMNS}`,
    values: [values.id, values.userId, values.name, values.color, values.position],
  };
}

/** The list holding an id a create could not take: whether it is the caller's and live. */
export function existingList(userId: string, listId: string): Statement {
  return {
    name: "list_existing",
    text: `SELECT user_id = $2 AS "mine", deleted_at IS NOT NULL AS "deleted", ${LIST_COLUMNS}
  FROM lists
 WHERE id = $1::uuid`,
    values: [listId, userId],
  };
}

/**
 * One of the caller's lists, locked until the transaction ends (a change reads, then writes).
 * No row: no such list of the caller's.
 */
export function lockList(userId: string, listId: string): Statement {
  return {
    name: "list_lock",
    text: `SELECT ${LIST_COLUMNS} FROM lists
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
   FOR NO KEY UPDATE`,
    values: [userId, listId],
  };
}

/**
 * The key of a list of the caller's (`afterId`; null: none, from the start) and of the next list
 * after it, leaving out the list being moved. No row: `afterId` is not a live list of the caller's.
 */
export function listNeighbours(
  userId: string,
  afterId: string | null,
  movingId: string,
): Statement {
  return {
    name: "list_neighbours",
    text: `SELECT convert_from(after.position, 'UTF8') AS "before",
       (SELECT convert_from(next.position, 'UTF8') FROM lists AS next
         WHERE next.user_id = $1 AND next.deleted_at IS NULL AND next.id <> $3::uuid
           AND ($2::uuid IS NULL OR (next.position, next.id) > (after.position, after.id))
         ORDER BY next.position, next.id LIMIT 1) AS "after"
  FROM (SELECT NULL::bytea AS position, NULL::uuid AS id WHERE $2::uuid IS NULL
        UNION ALL
        SELECT position, id FROM lists
         WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL) AS after`,
    values: [userId, afterId, movingId],
  };
}

/** The ids of the caller's live lists in order, leaving out the one being moved. */
export function listIds(userId: string, movingId: string): Statement {
  return {
    name: "list_ids",
    text: `SELECT id::text AS "id" FROM lists
 WHERE user_id = $1 AND deleted_at IS NULL AND id <> $2::uuid
 ORDER BY lists.position, lists.id`,
    values: [userId, movingId],
  };
}

/** A rebalance of the caller's lists (see setPositions). */
export const setListPositions = (userId: string, ids: string[], keys: string[]): Statement =>
  setPositions("lists", userId, ids, keys);

/** Writes a locked list's fields and key: a new version. */
export function updateListStatement(
  userId: string,
  listId: string,
  fields: { name: string; color: string | null; position: string },
): Statement {
  return {
    name: "list_update",
    text: `UPDATE lists
   SET name = $3, color = $4, position = convert_to($5, 'UTF8'),
       version = version + 1, updated_at = now()
 WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL
RETURNING ${LIST_COLUMNS}`,
    values: [userId, listId, fields.name, fields.color, fields.position],
  };
}

/**
 * Deletes a locked list of the caller's (not the Inbox): a tombstone, and its tasks with it
 * (trigger lists_delete_tasks); how many tasks went.
 */
export function deleteListStatement(userId: string, listId: string): Statement {
  return {
    name: "list_delete",
    text: `WITH gone AS (
  UPDATE lists SET deleted_at = now(), version = version + 1, updated_at = now()
   WHERE user_id = $1 AND id = $2::uuid AND deleted_at IS NULL AND is_default IS NULL
  RETURNING id
)
SELECT gone.id::text AS "id",
       (SELECT count(*)::int FROM tasks
         WHERE user_id = $1 AND list_id = $2::uuid AND deleted_at IS NULL) AS "deletedTasks"
  FROM gone`,
    values: [userId, listId],
  };
}

/** One list purger at a time across instances (see the tasks' purgeLock). */
export const purgeListsLock: Statement = {
  name: "list_purge_lock",
  // (namespace, job): 'todo' in ASCII, 3 for list tombstones.
  text: `SELECT pg_try_advisory_xact_lock(1953457263, 3) AS "locked"`,
  values: [],
};

/**
 * Purges up to `batch` list tombstones past the retention whose tasks are all purged already (a
 * list's purge would otherwise take its task tombstones unseen), moving each affected user's feed
 * horizon past them (purgeFeedTombstones).
 */
export function purgeListsStatement(retentionDays: number, batch: number): Statement {
  const ready = `NOT EXISTS (SELECT 1 FROM tasks
                      WHERE tasks.user_id = lists.user_id AND tasks.list_id = lists.id)`;
  return purgeFeedTombstones("lists", ready, retentionDays, batch);
}
