import type { Db } from "@todo/db/client";
import { LRUCache } from "lru-cache";
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

/** Makes sure the token subject has a users row (INSERT ... ON CONFLICT DO NOTHING, once). */
export async function ensureUser({ db, userId }: { db: Db; userId: string }): Promise<void> {
  const cache = cacheFor(db);
  if (cache.has(userId)) return;
  await db.pool.query(ensureUserStatement(userId));
  cache.set(userId, true);
}

/** Inserts the row again after the database showed it gone (deleted, or a reset database). */
export async function recreateUser({ db, userId }: { db: Db; userId: string }): Promise<void> {
  cacheFor(db).delete(userId);
  await ensureUser({ db, userId });
}

/** The caller's own account, created if the subject has not written anything yet. */
export async function getMe({ db, userId }: { db: Db; userId: string }) {
  const { rows } = await db.pool.query(meStatement(userId));
  cacheFor(db).set(userId, true);
  return rows[0] as { id: string; createdAt: string };
}
