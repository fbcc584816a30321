// The SQL both baselines run: the same intent as the product's queries (live tasks only: a deleted
// task stays as a tombstone for the change feed), as named prepared statements (parsed and
// planned once per connection).
import { generateKeyBetween } from "fractional-indexing";
import type { Pool } from "pg";

const COLUMNS =
  "id, title, description, completed, completed_at, priority, due_at, created_at, updated_at, version";

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
                  ORDER BY tasks.position, tasks.id LIMIT 1) AS first
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
  };
}
