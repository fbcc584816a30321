// Stream tickets: a browser's native EventSource cannot send an Authorization header, and a bearer
// token is never accepted in a URL (it would reach logs and histories). So a client with a token
// asks for a ticket (POST …/tasks/events/ticket) and opens the stream with `?ticket=` (REST) or in
// tRPC's connectionParams: at most 60 seconds old, bound to its user, usable once, on any instance.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@todo/db/client";
import type { VerifiedToken } from "../auth/verifier.ts";
import { AppError } from "../errors.ts";
import { countOf, rowsOf, type Scope } from "../sql.ts";
import { insertTicket, purgeTicketsStatement, redeemTicket } from "./sql.ts";

export const TICKET_TTL_SECONDS = 60;

const digestOf = (ticket: string) => createHash("sha256").update(ticket).digest();

/** A new ticket for the caller, valid for a minute (less when the token expires sooner). */
export async function issueTicket(
  scope: Scope,
  tokenExpiresAt: number,
): Promise<{ ticket: string; expiresAt: string }> {
  // A token inside the verifier's clock-skew leeway is still accepted, but a ticket for it would
  // be born expired: ask for a new token instead.
  if (tokenExpiresAt <= Date.now()) throw new AppError("UNAUTHORIZED", "Token expired");
  const ticket = randomBytes(32).toString("base64url");
  const [row] = await rowsOf<{ expiresAt: string }>(
    scope,
    insertTicket(digestOf(ticket), scope.userId, new Date(tokenExpiresAt), TICKET_TTL_SECONDS),
  );
  return { ticket, expiresAt: (row as { expiresAt: string }).expiresAt };
}

const invalidTicket = () =>
  new AppError("UNAUTHORIZED", "Invalid, expired or already used stream ticket");

/** The identity a ticket carries; it cannot be used again. */
export async function redeem(db: Db, ticket: string): Promise<VerifiedToken> {
  if (!/^[\w-]{20,100}$/.test(ticket)) throw invalidTicket();
  const [row] = await rowsOf<{ userId: string; valid: boolean; tokenExpiresAt: string }>(
    { db },
    redeemTicket(digestOf(ticket)),
  );
  if (!row?.valid) throw invalidTicket();
  return { userId: row.userId, expiresAt: Number(row.tokenExpiresAt) };
}

/** Deletes expired tickets; how many. */
export async function purgeTickets(db: Db): Promise<number> {
  return countOf({ db }, purgeTicketsStatement());
}
