import type { Db } from "@todo/db/client";
import { LRUCache } from "lru-cache";

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
  await db.pool.query({
    name: "user_ensure",
    text: "INSERT INTO users (id) VALUES ($1) ON CONFLICT DO NOTHING",
    values: [userId],
  });
  cache.set(userId, true);
}

/** Inserts the row again after the database showed it gone (deleted, or a reset database). */
export async function recreateUser({ db, userId }: { db: Db; userId: string }): Promise<void> {
  cacheFor(db).delete(userId);
  await ensureUser({ db, userId });
}

/** The caller's own account, created if the subject has not written anything yet. */
export async function getMe({ db, userId }: { db: Db; userId: string }) {
  const select = { id: true, createdAt: true } as const;
  let user = await db.user.findUnique({ where: { id: userId }, select });
  if (!user) {
    await recreateUser({ db, userId });
    user = await db.user.findUniqueOrThrow({ where: { id: userId }, select });
  }
  return { id: user.id, createdAt: user.createdAt.toISOString() };
}
