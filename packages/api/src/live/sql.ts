import type { Statement } from "../sql.ts";

// All SQL of stream tickets. A ticket is kept as its digest only.

export function insertTicket(
  digest: Buffer,
  userId: string,
  tokenExpiresAt: Date,
  ttlSeconds: number,
): Statement {
  return {
    name: "ticket_insert",
    text: `INSERT INTO stream_tickets (digest, user_id, token_expires_at, expires_at)
VALUES ($1, $2, $3, LEAST($3, now() + make_interval(secs => $4::int)))
RETURNING to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "expiresAt"`,
    values: [digest, userId, tokenExpiresAt, ttlSeconds],
  };
}

/** Uses a ticket up: gone whatever the answer, so it works once, on any instance. */
export function redeemTicket(digest: Buffer): Statement {
  return {
    name: "ticket_redeem",
    text: `DELETE FROM stream_tickets WHERE digest = $1
RETURNING user_id AS "userId", expires_at > now() AS "valid",
          (extract(epoch FROM token_expires_at) * 1000)::bigint::text AS "tokenExpiresAt"`,
    values: [digest],
  };
}

export function purgeTicketsStatement(): Statement {
  return {
    name: "ticket_purge",
    text: "DELETE FROM stream_tickets WHERE expires_at < now()",
    values: [],
  };
}
