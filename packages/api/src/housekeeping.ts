// What the server purges on a schedule: tombstones past their retention (the change feed's
// horizon moves with them), Idempotency-Key answers past their 24 hours, and expired stream
// tickets. The first two run on one instance at a time; the others skip the round.
import type { Db } from "@todo/db/client";
import { purgeIdempotencyKeys } from "./idempotency/idempotency.ts";
import { purgeListTombstones } from "./list/list.ts";
import { purgeTickets } from "./live/tickets.ts";
import { purgeTombstones } from "./task/task.ts";

export const TOMBSTONE_RETENTION_DAYS_DEFAULT = 30;

export type Purged = { tombstones: number; idempotencyKeys: number; streamTickets: number };

/** One round of purging; how many rows of each kind went. */
export async function purgeExpired(
  db: Db,
  { retentionDays }: { retentionDays: number },
): Promise<Purged> {
  // Tasks first: a list's tombstone goes once its tasks' have.
  const tombstones =
    (await purgeTombstones({ db }, { retentionDays })) +
    (await purgeListTombstones({ db }, { retentionDays }));
  const idempotencyKeys = await purgeIdempotencyKeys({ db });
  const streamTickets = await purgeTickets(db);
  return { tombstones, idempotencyKeys, streamTickets };
}
