import type { Db } from "@todo/db/client";
import { LRUCache } from "lru-cache";

// Subjects known to have a users row, per database client. Only writes that need the row (task
// creation, `me`) consult it, so reads never pay for user bookkeeping, and a subject costs one
// idempotent INSERT per process lifetime (or per eviction).
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
  await db.user.createMany({ data: [{ id: userId }], skipDuplicates: true });
  cache.set(userId, true);
}

/** Forgets that a subject has a row, after the database said otherwise (e.g. it was reset). */
export function forgetUser({ db, userId }: { db: Db; userId: string }): void {
  cacheFor(db).delete(userId);
}

/** The caller's own account: the first call for a subject creates it. */
export async function getMe({ db, userId }: { db: Db; userId: string }) {
  const select = { id: true, createdAt: true } as const;
  let user = await db.user.findUnique({ where: { id: userId }, select });
  if (!user) {
    forgetUser({ db, userId });
    await ensureUser({ db, userId });
    user = await db.user.findUniqueOrThrow({ where: { id: userId }, select });
  }
  return { id: user.id, createdAt: user.createdAt.toISOString() };
}
