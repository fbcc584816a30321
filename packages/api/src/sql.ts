// What every domain's sql.ts shares: the statement type, where statements run, transactions, and
// how PostgreSQL shapes values for the wire. The rule for which operations are SQL is in
// docs/decisions/0003-hot-queries-sql.md.

import type { Db, PoolClient } from "@todo/db/client";

/** A named prepared statement for pg: parsed and planned once per pooled connection. */
export type Statement = { name: string; text: string; values: unknown[] };

/**
 * Where a domain function's statements run: on the pool (each statement its own transaction), or
 * on `tx`, the connection of a transaction the request holds (an atomic batch, a mutation sent with
 * an Idempotency-Key). Inside a transaction nothing may use the pool: with the embedded database
 * (one session) that would wait for the transaction to end.
 */
export type Executor = { db: Db; tx?: PoolClient };

/** Every domain function's scope: where to run, and whose data it is. */
export type Scope = Executor & { userId: string };

/** Runs a statement; its rows, typed as the statement's sql.ts shapes them. */
export async function rowsOf<T>(on: Executor, statement: Statement): Promise<T[]> {
  return (await (on.tx ?? on.db.pool).query(statement)).rows as T[];
}

/** Runs a statement for its effect; how many rows it touched. */
export async function countOf(on: Executor, statement: Statement): Promise<number> {
  return (await (on.tx ?? on.db.pool).query(statement)).rowCount ?? 0;
}

let savepoints = 0;

/**
 * Runs `work` as one unit: a transaction of its own (BEGIN … COMMIT on one pooled connection), or,
 * when the executor already holds one, a savepoint in it, so that a failing unit rolls back alone
 * and the outer transaction goes on. `work` gets the executor to use for every statement.
 */
export async function inTransaction<T>(
  on: Executor,
  work: (inside: Required<Executor>) => Promise<T>,
): Promise<T> {
  const { db, tx } = on;
  if (tx) {
    const savepoint = `unit_${++savepoints}`;
    await tx.query(`SAVEPOINT ${savepoint}`);
    try {
      const result = await work({ db, tx });
      await tx.query(`RELEASE SAVEPOINT ${savepoint}`);
      return result;
    } catch (error) {
      // Should even that fail, the outer transaction's next statement reports it.
      await tx.query(`ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => {});
      throw error;
    }
  }
  return transaction(db.pool, (client) => work({ db, tx: client }));
}

/**
 * BEGIN … COMMIT on one connection of `pool`, ROLLBACK when `work` fails. A connection that cannot
 * even roll back is closed rather than returned to the pool.
 */
export async function transaction<T>(
  pool: Db["pool"],
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Purges in bounded batches, one instance at a time: each batch runs in a transaction that first
 * tries `lock` (a transaction-level advisory lock, never waited for: another instance holding it
 * means this one skips the round); `batch(size)` deletes up to `size` rows and answers how many
 * as `purged`. How many went in all.
 */
export async function purgeInBatches(
  on: Executor,
  lock: Statement,
  batch: (size: number) => Statement,
  size = 1_000,
): Promise<number> {
  let total = 0;
  for (;;) {
    const purged = await inTransaction(on, async (tx) => {
      const [held] = await rowsOf<{ locked: boolean }>(tx, lock);
      if (!held?.locked) return 0;
      const [row] = await rowsOf<{ purged: number }>(tx, batch(size));
      return row?.purged ?? 0;
    });
    total += purged;
    if (purged < size) return total;
  }
}

/** Date.prototype.toISOString's format, computed by PostgreSQL. */
export const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Purges up to `batch` tombstones of a feed table (tasks, lists) deleted more than `retentionDays`
 * ago, of every user, those `ready` (an SQL condition on the row) allows, and moves each affected
 * user's purge horizon up to the newest feed position it removed, in one statement.
 */
export function purgeFeedTombstones(
  table: "tasks" | "lists",
  ready: string,
  retentionDays: number,
  batch: number,
): Statement {
  return {
    name: `${table}_purge_tombstones`,
    text: `WITH doomed AS (
  SELECT id FROM ${table}
   WHERE deleted_at < now() - make_interval(days => $1::int)
     AND ${ready}
   LIMIT $2
   FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM ${table} USING doomed WHERE ${table}.id = doomed.id
  RETURNING ${table}.user_id, ${table}.change_xid, ${table}.id
), horizons AS (
  UPDATE users SET purged_xid = newest.change_xid, purged_id = newest.id
    FROM (SELECT DISTINCT ON (user_id) user_id, change_xid, id
            FROM gone ORDER BY user_id, change_xid DESC, id DESC) AS newest
   WHERE users.id = newest.user_id
     AND (users.purged_xid, users.purged_id) < (newest.change_xid, newest.id)
)
SELECT count(*)::int AS "purged" FROM gone`,
    values: [retentionDays, batch],
  };
}

/**
 * A rebalance of a sibling group of tasks or lists: new keys for the caller's rows `ids`, and
 * nothing else. Only the order changes, which the server keeps: no new version (a client's pending
 * edit of a sibling stays valid); the change feed shows them (the trigger stamps each row).
 */
export function setPositions(
  table: "tasks" | "lists",
  userId: string,
  ids: string[],
  keys: string[],
): Statement {
  return {
    name: `${table}_set_positions`,
    text: `UPDATE ${table} SET position = convert_to(new.key, 'UTF8')
  FROM unnest($2::uuid[], $3::text[]) AS new (id, key)
 WHERE ${table}.user_id = $1 AND ${table}.id = new.id AND ${table}.deleted_at IS NULL`,
    values: [userId, ids, keys],
  };
}
