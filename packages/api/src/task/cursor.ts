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
