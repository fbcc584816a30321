// Idempotency-Key (IETF httpapi draft): a mutation sent with a key runs at most once per user and
// key; its first answer is kept 24 hours and given again, marked as replayed, to a repeat of the
// same request. The same key for another request is UNPROCESSABLE_CONTENT (422); a repeat while
// the first still runs is CONFLICT (409). The effects and the kept answer commit in one
// transaction, so a crash can never leave one without the other.
import { createHash } from "node:crypto";
import { AppError, type AppErrorCode, type ErrorDetails, httpStatusOf } from "../errors.ts";
import { type Executor, inTransaction, purgeInBatches, rowsOf, type Scope } from "../sql.ts";
import {
  claimKey,
  completeKey,
  keyRecord,
  purgeKeysLock,
  purgeKeysStatement,
  releaseKey,
} from "./sql.ts";

/** A first request still unanswered after this long is taken to have died with its process. */
export const ABANDONED_AFTER_SECONDS = 60;

/** What the transport tells the procedures about the request's key, and hears back. */
export type KeyUse = {
  /** The Idempotency-Key header as sent, if any. */
  header: string | undefined;
  /** Set when the answer is a replay, for the transport to mark it (Idempotent-Replayed). */
  replayed: boolean;
  /** Set once a call of the request used the key: a key covers one call. */
  used: boolean;
};

type Outcome =
  | { ok: true; data: unknown }
  | { ok: false; error: { code: AppErrorCode; message: string; details?: ErrorDetails } };

// The draft's form is a Structured Field string ("..."): printable ASCII without `"` or `\`.
// A bare token, as many clients send (a UUID, base64), is taken too, as the same key.
const QUOTED = /^"([\x20\x21\x23-\x5b\x5d-\x7e]{1,255})"$/;
const BARE = /^[A-Za-z0-9._~:+/=-]{1,255}$/;

export const ONE_CALL_PER_KEY_MESSAGE =
  "An Idempotency-Key covers one call: send each mutation in a request of its own (or use task.batch)";

/** The key a header carries; a malformed one is BAD_REQUEST. */
export function parseIdempotencyKey(header: string): string {
  const value = header.trim();
  const key = QUOTED.exec(value)?.[1] ?? (BARE.test(value) ? value : undefined);
  if (key !== undefined) return key;
  // Two headers arrive joined by a comma.
  if (/^[^"]*,|",/.test(value)) {
    throw new AppError("BAD_REQUEST", "Send exactly one Idempotency-Key header");
  }
  throw new AppError(
    "BAD_REQUEST",
    'Idempotency-Key must be a quoted string of 1-255 printable ASCII characters (as in "8e03978e-40d5"), or a bare UUID or token',
  );
}

const digestOf = (request: unknown) =>
  createHash("sha256").update(JSON.stringify(request)).digest();

/** A kept failure, raised again as it was first raised. */
const replay = (outcome: Outcome): unknown => {
  if (outcome.ok) return outcome.data;
  const { code, message, details } = outcome.error;
  throw new AppError(code, message, details ? { details } : undefined);
};

/**
 * Runs a mutation's `work` once per key: without a key, simply runs it. `request` is what makes two
 * requests the same (procedure, input, preconditions). Client errors (4xx) are answers and are
 * kept; anything else (a 5xx) rolls back and frees the key for a retry.
 */
export async function once<T>(
  scope: Scope,
  use: KeyUse,
  request: unknown,
  work: (scope: Scope) => Promise<T>,
): Promise<T> {
  if (use.header === undefined) return work(scope);
  const key = parseIdempotencyKey(use.header);
  if (use.used) throw new AppError("BAD_REQUEST", ONE_CALL_PER_KEY_MESSAGE);
  use.used = true;
  const { userId } = scope;
  const digest = digestOf(request);

  // The key is claimed for good (its own statement) before the work starts, so that a repeat
  // arriving meanwhile finds it running.
  for (let attempt = 0; ; attempt++) {
    const claimed = await rowsOf(scope, claimKey(userId, key, digest, ABANDONED_AFTER_SECONDS));
    if (claimed.length > 0) break;
    const [record] = await rowsOf<{ sameRequest: boolean; outcome: Outcome | null }>(
      scope,
      keyRecord(userId, key, digest),
    );
    // Gone between the two statements (expired, or freed by a failed first request): claim again.
    if (!record && attempt < 3) continue;
    if (!record?.sameRequest) {
      throw new AppError(
        "UNPROCESSABLE_CONTENT",
        "This Idempotency-Key was used for a different request; use a new key",
      );
    }
    if (record.outcome === null) {
      throw new AppError(
        "CONFLICT",
        "A request with this Idempotency-Key is still being processed; retry shortly",
        { retryAfterSeconds: 1 },
      );
    }
    use.replayed = true;
    return replay(record.outcome) as T;
  }

  let outcome: Outcome;
  try {
    outcome = await inTransaction(scope, async (tx) => {
      let kept: Outcome;
      try {
        // A savepoint of its own: a failing mutation leaves no effect, only its kept answer.
        kept = { ok: true, data: await inTransaction(tx, (inner) => work({ ...scope, ...inner })) };
      } catch (error) {
        if (!(error instanceof AppError) || httpStatusOf(error.code) >= 500) throw error;
        kept = {
          ok: false,
          error: {
            code: error.code,
            message: error.message,
            ...(error.details ? { details: error.details } : {}),
          },
        };
      }
      await rowsOf(tx, completeKey(userId, key, JSON.stringify(kept)));
      return kept;
    });
  } catch (error) {
    await rowsOf(scope, releaseKey(userId, key)).catch(() => {});
    throw error;
  }
  return replay(outcome) as T;
}

/** Deletes expired keys in bounded batches, one instance at a time; how many. */
export async function purgeIdempotencyKeys(on: Executor, batch = 1_000): Promise<number> {
  return purgeInBatches(on, purgeKeysLock, purgeKeysStatement, batch);
}
