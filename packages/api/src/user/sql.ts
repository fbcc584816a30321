import { iso, type Statement } from "../sql.ts";

// All SQL of the user domain. The caller's id is the first parameter of every statement.

/** The subject's users row, created if missing; nothing returned. */
export function ensureUserStatement(userId: string): Statement {
  return {
    name: "user_ensure",
    text: "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING",
    values: [userId],
  };
}

/**
 * The caller's account as the API's Me, created on first use. One statement: the insert's CTE and
 * the read see the same snapshot, so exactly one of the two branches returns the row.
 */
export function meStatement(userId: string): Statement {
  return {
    name: "user_me",
    text: `WITH created AS (
  INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id, created_at
)
SELECT id, ${iso("created_at")} AS "createdAt" FROM created
UNION ALL
SELECT id, ${iso("created_at")} AS "createdAt" FROM users WHERE id = $1
LIMIT 1`,
    values: [userId],
  };
}
