import type { Prisma } from "@todo/db/client";
import { type Cursor, isDateSort } from "./cursor.ts";
import type { Priority, SortOrder, TaskSort } from "./schemas.ts";

/**
 * One index range scan of a listing: rows matching `where`, in `orderBy` order. A page is read
 * from the segments in turn until it is full.
 */
export type Segment = {
  where: Prisma.TaskWhereInput;
  orderBy: Prisma.TaskOrderByWithRelationInput[];
};

/** Declaration order of the enum, which is also PostgreSQL's sort order for it. */
const PRIORITIES: readonly Priority[] = ["low", "medium", "high"];

/**
 * How to read a listing, from its start or after a cursor, as index range scans only, so a page
 * costs O(log n + page) on the (user_id, <sort>, id) indexes however deep it is. The plain
 * keyset condition `(key > v) OR (key = v AND id > c)` would be an index *filter*, making page k
 * cost O(k × page); instead each condition starts the range (`key >= v`) and only ties are
 * filtered. Due dates are split into dated and undated rows (undated last in both orders), and
 * priorities (an enum Prisma cannot compare with `>`) into one segment per value.
 */
export function planSegments(sort: TaskSort, order: SortOrder, cursor?: Cursor): Segment[] {
  const cmp = order === "asc" ? "gt" : "lt";
  const bound = order === "asc" ? "gte" : "lte";
  const byId: Prisma.TaskOrderByWithRelationInput[] = [{ id: order }];
  const idAfter = cursor ? { id: { [cmp]: cursor.id } } : {};

  if (sort === "priority") {
    const values = order === "asc" ? PRIORITIES : [...PRIORITIES].reverse();
    if (!cursor) return [{ where: {}, orderBy: [{ priority: order }, ...byId] }];
    const at = values.indexOf(cursor.value as Priority);
    return [
      { where: { priority: values[at], ...idAfter }, orderBy: byId },
      ...values.slice(at + 1).map((priority) => ({ where: { priority }, orderBy: byId })),
    ];
  }

  const byKey: Prisma.TaskOrderByWithRelationInput[] = [{ [sort]: order }, ...byId];
  // Ordering undated rows by the (all null) due date too lets PostgreSQL read them in index order
  // instead of sorting them: it does not treat `due_at IS NULL` as fixing the first key.
  const byDueAt: Prisma.TaskOrderByWithRelationInput[] = [{ dueAt: order }, ...byId];
  const undated = (after: object): Segment => ({
    where: { dueAt: null, ...after },
    orderBy: byDueAt,
  });
  if (sort === "dueAt" && cursor?.value === null) return [undated(idAfter)];

  let where: Prisma.TaskWhereInput = sort === "dueAt" ? { dueAt: { not: null } } : {};
  if (cursor) {
    const v = isDateSort(sort) ? new Date(cursor.value as string) : (cursor.value as string);
    where = { [sort]: { [bound]: v }, OR: [{ [sort]: { [cmp]: v } }, idAfter] };
  }
  const keyed: Segment = { where, orderBy: byKey };
  return sort === "dueAt" ? [keyed, undated({})] : [keyed];
}
