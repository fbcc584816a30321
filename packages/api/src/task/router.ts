import { type TrackedEnvelope, tracked } from "@trpc/server";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { type LiveChanges, openLiveChanges, streamEndError } from "../live/live.ts";
import { issueTicket } from "../live/tickets.ts";
import { type Context, mutate, protectedProcedure, router, scopeOf, toTRPCError } from "../trpc.ts";
import { decodeFeedCursor } from "./cursor.ts";
import type { TaskChange } from "./schemas.ts";
import {
  TASK_DEFAULTS,
  zDeleted,
  zDeletedCount,
  zLabelCount,
  zStreamTicket,
  zTask,
  zTaskBatchInput,
  zTaskBatchOutput,
  zTaskChanges,
  zTaskChangesInput,
  zTaskCreate,
  zTaskIdInput,
  zTaskListInput,
  zTaskMoveInput,
  zTaskOnChangeInput,
  zTaskPage,
  zTaskReplaceInput,
  zTaskSetCompleted,
  zTaskStats,
  zTaskUpdate,
  zTaskVersionedIdInput,
} from "./schemas.ts";
import {
  clearCompleted,
  createTask,
  deleteTask,
  getTask,
  getTaskStats,
  listChanges,
  listLabels,
  listTasks,
  moveTask,
  runBatch,
  setTaskCompleted,
  toggleTask,
  updateTask,
} from "./task.ts";

/**
 * The version a change must find, and how a stale one is answered: the input's own (CONFLICT), or
 * the transport's If-Match precondition (PRECONDITION_FAILED), which an input version must match.
 */
export function expectation(ctx: Pick<Context, "ifMatch">, version: number | undefined) {
  if (ctx.ifMatch === undefined) return { version, staleCode: "CONFLICT" as const };
  if (version !== undefined && version !== ctx.ifMatch) {
    throw new AppError("BAD_REQUEST", "If-Match and the body's version disagree");
  }
  return { version: ctx.ifMatch, staleCode: "PRECONDITION_FAILED" as const };
}

// The user id always comes from the verified token (ctx.userId), never from input. Every
// mutation runs through `mutate`: once per Idempotency-Key, in a transaction with its answer.
/**
 * A live stream's events as tRPC yields them: each change tracked by its cursor. Errors raised
 * while streaming pass no middleware, so they leave as tRPC errors already: a client sees
 * UNAUTHORIZED (it stops) or SERVICE_UNAVAILABLE (it reconnects elsewhere). An object rather than
 * an async generator: an idle stream's generator would keep its last change alive.
 */
class TrackedChanges implements AsyncIterableIterator<TrackedEnvelope<TaskChange>> {
  constructor(readonly events: LiveChanges) {}

  /** Where the stream stands: a REST stream names it first, so a reconnect loses nothing. */
  get cursor(): string {
    return this.events.cursor;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<TrackedEnvelope<TaskChange>, undefined>> {
    const next = await this.events.next();
    if (next.done) return next;
    const event = next.value;
    if (event.kind === "change") return { done: false, value: tracked(event.cursor, event.change) };
    throw toTRPCError(streamEndError(event.reason));
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    await this.events.return?.();
    return { done: true, value: undefined };
  }
}

export const taskRouter = router({
  list: protectedProcedure
    .input(zTaskListInput)
    .output(zTaskPage)
    .query(({ ctx, input }) => listTasks(scopeOf(ctx), input)),

  byId: protectedProcedure
    .input(zTaskIdInput)
    .output(zTask)
    .query(({ ctx, input }) => getTask(scopeOf(ctx), input.id)),

  stats: protectedProcedure.output(zTaskStats).query(({ ctx }) => getTaskStats(scopeOf(ctx))),

  /** The caller's labels, each with how many live tasks carry it (ignoring case), by name. */
  labels: protectedProcedure
    .output(z.array(zLabelCount))
    .query(({ ctx }) => listLabels(scopeOf(ctx))),

  /** What changed since a cursor, tombstones included: the offline client's sync feed. */
  changes: protectedProcedure
    .input(zTaskChangesInput)
    .output(zTaskChanges)
    .query(({ ctx, input }) => listChanges(scopeOf(ctx), input)),

  /**
   * Live changes over Server-Sent Events: the feed's change objects, each with its cursor as the
   * event id, from `since` / `lastEventId` (first what the feed holds, then each change as it
   * commits), or from now. Ends with UNAUTHORIZED when the token expires, and with
   * SERVICE_UNAVAILABLE (the client reconnects) when the server shuts down.
   */
  onChange: protectedProcedure
    .input(zTaskOnChangeInput)
    .subscription(async ({ ctx, input, signal }) => {
      if (!ctx.live) {
        throw new AppError("SERVICE_UNAVAILABLE", "Live updates are not offered by this server");
      }
      const resumeFrom = input?.lastEventId ?? input?.since;
      const after = resumeFrom ? decodeFeedCursor(resumeFrom) : null;
      const { expiresAt } = await ctx.identify();
      // Opened here, so a refusal (limits, an expired cursor) is the answer, not a stream event.
      const events = await openLiveChanges(scopeOf(ctx), ctx.live, { after, signal, expiresAt });
      return new TrackedChanges(events);
    }),

  /**
   * A ticket for a browser's live stream (EventSource sends no header; a token never goes in a
   * URL): `?ticket=` on the REST stream, `connectionParams: { ticket }` for tRPC. At most 60 s,
   * bound to the caller, usable once.
   */
  streamTicket: protectedProcedure.output(zStreamTicket).mutation(async ({ ctx, path }) => {
    // A ticket from a server that is stopping could open nothing here: ask another instance.
    ctx.live?.assertTaking();
    const { expiresAt } = await ctx.identify();
    return mutate(ctx, { path, input: null }, (scope) => issueTicket(scope, expiresAt));
  }),

  create: protectedProcedure
    .input(zTaskCreate)
    .output(zTask)
    .mutation(({ ctx, input, path }) =>
      mutate(ctx, { path, input }, (scope) => createTask(scope, input)),
    ),

  update: protectedProcedure
    .input(zTaskUpdate)
    .output(zTask)
    .mutation(({ ctx, input, path }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) =>
        updateTask(scope, { ...input, version }, staleCode),
      );
    }),

  /** Replaces every editable field: omitted ones go back to their defaults (REST's PUT). */
  replace: protectedProcedure
    .input(zTaskReplaceInput)
    .output(zTask)
    .mutation(({ ctx, input, path }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      const replacement = { ...TASK_DEFAULTS, ...input, version };
      return mutate(ctx, { path, input }, (scope) => updateTask(scope, replacement, staleCode));
    }),

  setCompleted: protectedProcedure
    .input(zTaskSetCompleted)
    .output(zTask)
    .mutation(({ ctx, input, path }) =>
      mutate(ctx, { path, input }, (scope) => setTaskCompleted(scope, input.id, input.completed)),
    ),

  toggle: protectedProcedure
    .input(zTaskVersionedIdInput)
    .output(zTask)
    .mutation(({ ctx, input, path }) => {
      const expected = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) => toggleTask(scope, input.id, expected));
    }),

  delete: protectedProcedure
    .input(zTaskVersionedIdInput)
    .output(zDeleted)
    .mutation(({ ctx, input, path }) => {
      const expected = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) => deleteTask(scope, input.id, expected));
    }),

  /**
   * Places a task right after `afterId` (null: first) among its siblings, in another list or
   * under another parent if asked; subtasks follow their parent.
   */
  move: protectedProcedure
    .input(zTaskMoveInput)
    .output(zTask)
    .mutation(({ ctx, input, path }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      return mutate(ctx, { path, input }, (scope) =>
        moveTask(scope, { ...input, version }, staleCode),
      );
    }),

  /** Deletes every completed task (as tombstones, in one statement); how many. */
  clearCompleted: protectedProcedure
    .output(zDeletedCount)
    .mutation(({ ctx, path }) =>
      mutate(ctx, { path, input: null }, (scope) => clearCompleted(scope)),
    ),

  /**
   * Several operations in order, atomically by default (an offline client's outbox). The rate
   * limit counts each operation (the request itself already counted one).
   */
  batch: protectedProcedure
    .input(zTaskBatchInput)
    .output(zTaskBatchOutput)
    .mutation(({ ctx, input, path }) =>
      mutate(ctx, { path, input }, async (scope) => {
        await ctx.charge?.(input.ops.length - 1);
        return { results: await runBatch(scope, input) };
      }),
    ),
});
