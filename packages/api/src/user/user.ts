import type { Db } from "@todo/db/client";
import { LRUCache } from "lru-cache";
import { type Executor, rowsOf, type Scope } from "../sql.ts";
import { ensureUserStatement, meStatement } from "./sql.ts";

// Subjects known to have a users row, per database client: a subject costs one idempotent INSERT
// per process lifetime (or per eviction), and every later request only a cache look-up.
const knownUsers = new WeakMap<Db, LRUCache<string, true>>();

function cacheFor(db: Db) {
  let cache = knownUsers.get(db);
  if (!cache) {
    cache = new LRUCache<string, true>({ max: 100_000 });
    knownUsers.set(db, cache);
  }
  return cache;
}

/**
 * Makes sure the token subject has a users row (INSERT ... ON CONFLICT DO NOTHING, once). Inside a
 * transaction the insert always runs and the cache is left alone: the transaction may roll back,
 * and a failed statement there could not be retried.
 */
export async function ensureUser({ db, tx, userId }: Scope): Promise<void> {
  if (tx) {
    await rowsOf({ db, tx }, ensureUserStatement(userId));
    return;
  }
  const cache = cacheFor(db);
  if (cache.has(userId)) return;
  await rowsOf({ db }, ensureUserStatement(userId));
  cache.set(userId, true);
}

/** Inserts the row again after the database showed it gone (deleted, or a reset database). */
export async function recreateUser({ db, userId }: { db: Db; userId: string }): Promise<void> {
  cacheFor(db).delete(userId);
  await ensureUser({ db, userId });
}

/** The caller's own account, created if the subject has not written anything yet. */
export async function getMe({ db, userId }: Executor & { userId: string }) {
  const [me] = await rowsOf<{ id: string; createdAt: string }>({ db }, meStatement(userId));
  cacheFor(db).set(userId, true);
  return me as { id: string; createdAt: string };
}
