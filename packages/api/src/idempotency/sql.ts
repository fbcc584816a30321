import type { Statement } from "../sql.ts";

// All SQL of Idempotency-Key records. The caller's id is the first parameter of every statement
// but the purge's.

/** How long a key's first answer is kept, and a key cannot be used for another request. */
export const KEY_TTL = "24 hours";

/**
 * Claims a key for a request: a new key, an expired one, or one whose first request was abandoned
 * (still unanswered after `abandonedAfterSeconds`: its process died) is (re)claimed and returns a
 * row; a key in use returns none.
 */
export function claimKey(
  userId: string,
  key: string,
  requestDigest: Buffer,
  abandonedAfterSeconds: number,
): Statement {
  return {
    name: "idempotency_claim",
    text: `INSERT INTO idempotency_keys (user_id, key, request_digest) VALUES ($1, $2, $3)
ON CONFLICT (user_id, key) DO UPDATE
   SET request_digest = EXCLUDED.request_digest, outcome = NULL, created_at = now()
 WHERE idempotency_keys.created_at < now() - interval '${KEY_TTL}'
    OR (idempotency_keys.outcome IS NULL
        AND idempotency_keys.created_at < now() - make_interval(secs => $4::int))
RETURNING true AS "claimed"`,
    values: [userId, key, requestDigest, abandonedAfterSeconds],
  };
}

/** A live key's record: whether it was used for this request, and its outcome (null: running). */
export function keyRecord(userId: string, key: string, requestDigest: Buffer): Statement {
  return {
    name: "idempotency_record",
    text: `SELECT request_digest = $3 AS "sameRequest", outcome
  FROM idempotency_keys
 WHERE user_id = $1 AND key = $2 AND created_at >= now() - interval '${KEY_TTL}'`,
    values: [userId, key, requestDigest],
  };
}

/** Keeps a request's outcome (JSON text, kept as written), in the transaction of its effects. */
export function completeKey(userId: string, key: string, outcome: string): Statement {
  return {
    name: "idempotency_complete",
    text: "UPDATE idempotency_keys SET outcome = $3::json WHERE user_id = $1 AND key = $2",
    values: [userId, key, outcome],
  };
}

/** Frees a claimed key whose request failed without an answer worth keeping (a 5xx). */
export function releaseKey(userId: string, key: string): Statement {
  return {
    name: "idempotency_release",
    text: "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND outcome IS NULL",
    values: [userId, key],
  };
}

/** One key purger at a time across instances, as for tombstones ('todo', 2). */
export const purgeKeysLock: Statement = {
  name: "idempotency_purge_lock",
  text: `SELECT pg_try_advisory_xact_lock(1953457263, 2) AS "locked"`,
  values: [],
};

/** Deletes up to `batch` expired keys, oldest first (the created_at index); how many. */
export function purgeKeysStatement(batch: number): Statement {
  return {
    name: "idempotency_purge",
    text: `WITH gone AS (
  DELETE FROM idempotency_keys
   WHERE (user_id, key) IN (
     SELECT user_id, key FROM idempotency_keys
      WHERE created_at < now() - interval '${KEY_TTL}'
      ORDER BY created_at
      LIMIT $1
      FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT count(*)::int AS "purged" FROM gone`,
    values: [batch],
  };
}
