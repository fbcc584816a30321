// The SQL both baselines run: the same intent as the product's queries (live tasks only: a deleted
// task stays as a tombstone for the change feed), as named prepared statements (parsed and
// planned once per connection).
const COLUMNS =
  "id, title, description, completed, completed_at, priority, due_at, created_at, updated_at, version";

export const LIST = {
  name: "bench_list",
  text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND deleted_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT 21`,
};
export const CREATE = {
  name: "bench_create",
  text: `INSERT INTO tasks (id, user_id, title, updated_at) VALUES (gen_random_uuid(), $1, $2, now())
         RETURNING ${COLUMNS}`,
};
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
