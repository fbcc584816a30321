import { z } from "zod";
import { AppError } from "../errors.ts";
import { type SortOrder, type TaskSort, zPriority, zSortOrder, zTaskSort } from "./schemas.ts";

/**
 * An opaque keyset cursor: the sort key and id of the last row of a page. It holds only values the
 * caller was already shown, and it is only ever applied to the caller's own rows, so a cursor
 * from someone else's listing reveals nothing.
 */
export type Cursor = { sort: TaskSort; order: SortOrder; value: string | null; id: string };

const zCursor = z.strictObject({
  s: zTaskSort,
  o: zSortOrder,
  v: z.string().max(1_000).nullable(),
  i: z.uuid(),
});

export function encodeCursor(cursor: Cursor): string {
  const json = JSON.stringify({ s: cursor.sort, o: cursor.order, v: cursor.value, i: cursor.id });
  return Buffer.from(json).toString("base64url");
}

const badCursor = () =>
  new AppError("BAD_REQUEST", "Invalid cursor: pass back a nextCursor from the same listing");

/** Decodes a cursor made for this sort and order; anything else is BAD_REQUEST. */
export function decodeCursor(raw: string, sort: TaskSort, order: SortOrder): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  const result = zCursor.safeParse(parsed);
  if (!result.success || result.data.s !== sort || result.data.o !== order) throw badCursor();
  const { v, i } = result.data;
  if (v !== null && isDateSort(sort) && Number.isNaN(Date.parse(v))) throw badCursor();
  if (v === null && sort !== "dueAt") throw badCursor();
  if (sort === "priority" && !zPriority.safeParse(v).success) throw badCursor();
  return { sort, order, value: v, id: i };
}

export const isDateSort = (sort: TaskSort) =>
  sort === "createdAt" || sort === "updatedAt" || sort === "dueAt";

/** A position in a user's change feed: the transaction that wrote a row, then the row's id. */
export type FeedPosition = { xid: string; id: string };

/** A feed cursor: a position, and whether a full sync (no `since`) is still being paged. */
export type FeedCursor = FeedPosition & { fullSync: boolean };

/** Before every change: where a full sync starts. */
export const FEED_START: FeedPosition = { xid: "0", id: "00000000-0000-0000-0000-000000000000" };

/** Whether position `a` comes before `b` in the feed (ids as lowercase hex sort as PostgreSQL's). */
export function isBefore(a: FeedPosition, b: FeedPosition): boolean {
  const [x, y] = [BigInt(a.xid), BigInt(b.xid)];
  return x < y || (x === y && a.id < b.id);
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;
const zFeedCursor = z.strictObject({
  f: z.literal(1),
  x: z
    .string()
    .regex(/^(0|[1-9]\d{0,18})$/)
    .refine((x) => BigInt(x) <= MAX_BIGINT),
  i: z.guid(),
  s: z.literal(1).optional(),
});

/** The feed's cursor, as opaque as the list's and told apart from it (`f`). */
export function encodeFeedCursor(cursor: FeedCursor): string {
  const json = JSON.stringify({
    f: 1,
    x: cursor.xid,
    i: cursor.id,
    ...(cursor.fullSync ? { s: 1 } : {}),
  });
  return Buffer.from(json).toString("base64url");
}

const badFeedCursor = () =>
  new AppError("BAD_REQUEST", "Invalid cursor: pass back a nextCursor of the change feed");

/** Decodes a feed cursor; anything else (a list cursor too) is BAD_REQUEST. */
export function decodeFeedCursor(raw: string): FeedCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw badFeedCursor();
  }
  const result = zFeedCursor.safeParse(parsed);
  if (!result.success) throw badFeedCursor();
  return { xid: result.data.x, id: result.data.i.toLowerCase(), fullSync: result.data.s === 1 };
}
