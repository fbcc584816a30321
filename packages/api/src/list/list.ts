import { randomUUID } from "node:crypto";
import {
  AppError,
  type Expectation,
  listNotFound,
  type StaleCode,
  staleVersion,
} from "../errors.ts";
import { keyBetween, spread } from "../order.ts";
import { type Executor, inTransaction, purgeInBatches, rowsOf, type Scope } from "../sql.ts";
import { ensureUser } from "../user/user.ts";
import { LISTS_MAX, type ListCreate, type ListDto, type ListUpdate } from "./schemas.ts";
import {
  deleteListStatement,
  existingList,
  insertList,
  listCountAndLast,
  listIds,
  listNeighbours,
  listStatement,
  listsStatement,
  lockList,
  lockListsOf,
  purgeListsLock,
  purgeListsStatement,
  setListPositions,
  updateListStatement,
} from "./sql.ts";

// Every operation is SQL from sql.ts. Writes run in a transaction (their own, or a savepoint of the
// request's): each reads under a lock, then writes.

/** The caller's lists in their order; the Inbox always among them. */
export async function listLists(scope: Scope): Promise<ListDto[]> {
  // A new subject's first call creates its users row, and with it the Inbox.
  await ensureUser(scope);
  return rowsOf<ListDto>(scope, listsStatement(scope.userId));
}

export async function getList(scope: Scope, listId: string): Promise<ListDto> {
  const [list] = await rowsOf<ListDto>(scope, listStatement(scope.userId, listId));
  if (!list) throw listNotFound();
  return list;
}

/**
 * A key for a list placed right after `afterId` (null: first; undefined: last), leaving out
 * `movingId`; rebalances the caller's lists when no short key is left there.
 */
async function listKey(
  tx: Scope,
  movingId: string,
  afterId: string | null | undefined,
  last?: string | null,
): Promise<string> {
  let before: string | null;
  let after: string | null;
  if (afterId === undefined) {
    [before, after] = [last ?? null, null];
  } else {
    const [row] = await rowsOf<{ before: string | null; after: string | null }>(
      tx,
      listNeighbours(tx.userId, afterId, movingId),
    );
    if (!row) throw new AppError("NOT_FOUND", "afterId: list not found");
    ({ before, after } = row);
  }
  const key = keyBetween(before, after);
  if (key !== null) return key;
  // Rebalance: every other list a fresh key, in order, with a free slot for the moved one.
  const ids = (await rowsOf<{ id: string }>(tx, listIds(tx.userId, movingId))).map((r) => r.id);
  const { keys, placed } = spread(ids, afterId);
  await rowsOf(tx, setListPositions(tx.userId, ids, keys));
  return placed;
}

/**
 * Creates a list, last in the caller's order; at most LISTS_MAX. With a client-chosen id, a
 * retried create (same id, name and color) creates nothing and answers the list.
 */
export async function createList(scope: Scope, input: ListCreate): Promise<ListDto> {
  const id = input.id ?? randomUUID();
  const color = input.color ?? null;
  return inTransaction(scope, async (inside) => {
    const tx = { ...scope, ...inside };
    if (input.id !== undefined) {
      const [existing] = await rowsOf<ListDto & { mine: boolean; deleted: boolean }>(
        tx,
        existingList(tx.userId, id),
      );
      if (existing) {
        const { mine, deleted, ...list } = existing;
        if (!mine || list.name !== input.name || list.color !== color) {
          throw new AppError(
            "CONFLICT",
            "This id is taken by another list (or was created with other fields); choose a new id",
          );
        }
        if (deleted) {
          throw new AppError("CONFLICT", "The list created with this id was deleted since");
        }
        return list;
      }
    }
    await ensureUser(tx);
    // Creates of one user wait for each other here, so the count below is exact.
    await rowsOf(tx, lockListsOf(tx.userId));
    const [{ count, last }] = (await rowsOf<{ count: number; last: string | null }>(
      tx,
      listCountAndLast(tx.userId),
    )) as [{ count: number; last: string | null }];
    if (count >= LISTS_MAX) {
      throw new AppError("CONFLICT", `At most ${LISTS_MAX} lists per user; delete one first`);
    }
    const position = await listKey(tx, id, undefined, last);
    const [created] = await rowsOf<ListDto>(
      tx,
      insertList({ id, userId: tx.userId, name: input.name, color, position }),
    );
    if (!created) {
      throw new AppError("CONFLICT", "This id is taken by another list; choose a new id");
    }
    return created;
  });
}

/** Locks one of the caller's lists at the expected version. */
async function lockedList(tx: Scope, listId: string, expected: Expectation): Promise<ListDto> {
  const [list] = await rowsOf<ListDto>(tx, lockList(tx.userId, listId));
  if (!list) throw listNotFound();
  if (expected.version !== undefined && list.version !== expected.version) {
    throw staleVersion("list", expected.staleCode);
  }
  return list;
}

/** Renames, recolors or reorders a list (`afterId`: right after that list; null: first). */
export async function updateList(
  scope: Scope,
  input: ListUpdate,
  staleCode?: StaleCode,
): Promise<ListDto> {
  return inTransaction(scope, async (inside) => {
    const tx = { ...scope, ...inside };
    const list = await lockedList(tx, input.id, { version: input.version, staleCode });
    if (input.afterId === input.id) {
      throw new AppError("BAD_REQUEST", "A list cannot be placed after itself");
    }
    const position =
      input.afterId === undefined ? list.position : await listKey(tx, list.id, input.afterId);
    const [updated] = await rowsOf<ListDto>(
      tx,
      updateListStatement(tx.userId, list.id, {
        name: input.name ?? list.name,
        color: input.color === undefined ? list.color : input.color,
        position,
      }),
    );
    return updated as ListDto;
  });
}

/** Deletes a list and its tasks (tombstones for the change feed); never the Inbox. */
export async function deleteList(
  scope: Scope,
  listId: string,
  expected: Expectation = {},
): Promise<{ id: string; deletedTasks: number }> {
  return inTransaction(scope, async (inside) => {
    const tx = { ...scope, ...inside };
    const list = await lockedList(tx, listId, expected);
    if (list.isDefault) {
      throw new AppError("BAD_REQUEST", "The Inbox (the default list) cannot be deleted");
    }
    const [deleted] = await rowsOf<{ id: string; deletedTasks: number }>(
      tx,
      deleteListStatement(tx.userId, listId),
    );
    return deleted as { id: string; deletedTasks: number };
  });
}

/**
 * Purges list tombstones past the retention once their tasks are purged, in bounded batches, by
 * one instance at a time (as purgeTombstones for tasks, which runs first). How many went.
 */
export async function purgeListTombstones(
  on: Executor,
  { retentionDays, batch = 1_000 }: { retentionDays: number; batch?: number },
): Promise<number> {
  return purgeInBatches(
    on,
    purgeListsLock,
    (size) => purgeListsStatement(retentionDays, size),
    batch,
  );
}
