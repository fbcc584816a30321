import { z } from "zod";
import { expectation } from "../task/router.ts";
import { mutate, protectedProcedure, router, scopeOf } from "../trpc.ts";
import { createList, deleteList, getList, listLists, updateList } from "./list.ts";
import {
  zList,
  zListCreate,
  zListDeleted,
  zListIdInput,
  zListUpdate,
  zListVersionedIdInput,
} from "./schemas.ts";

// As the task router: the user id comes from the verified token only, and every mutation runs
// through `mutate` (once per Idempotency-Key, in a transaction with its answer).
export const listRouter = router({
  /** The caller's lists in their order (the Inbox among them). */
  all: protectedProcedure.output(z.array(zList)).query(({ ctx }) => listLists(scopeOf(ctx))),

  byId: protectedProcedure
    .input(zListIdInput)
    .output(zList)
    .query(({ ctx, input }) => getList(scopeOf(ctx), input.id)),

  /** A new list, last in the order; at most 200 per user. */
  create: protectedProcedure
    .input(zListCreate)
    .output(zList)
    .mutation(({ ctx, input, path }) =>
      mutate(ctx, { path, input }, (scope) => createList(scope, input)),
    ),

  /** Renames, recolors or reorders a list (`afterId`: right after that list; null: first). */
  update: protectedProcedure
    .input(zListUpdate)
    .output(zList)
    .mutation(({ ctx, input, path }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) =>
        updateList(scope, { ...input, version }, staleCode),
      );
    }),

  /** Deletes a list and its tasks (tombstones in the change feed); the Inbox cannot be deleted. */
  delete: protectedProcedure
    .input(zListVersionedIdInput)
    .output(zListDeleted)
    .mutation(({ ctx, input, path }) => {
      const expected = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) => deleteList(scope, input.id, expected));
    }),
});
