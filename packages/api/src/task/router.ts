import { AppError } from "../errors.ts";
import { type Context, protectedProcedure, router } from "../trpc.ts";
import {
  TASK_DEFAULTS,
  zDeleted,
  zTask,
  zTaskCreate,
  zTaskIdInput,
  zTaskListInput,
  zTaskPage,
  zTaskReplaceInput,
  zTaskSetCompleted,
  zTaskStats,
  zTaskUpdate,
  zTaskVersionedIdInput,
} from "./schemas.ts";
import {
  createTask,
  deleteTask,
  getTask,
  getTaskStats,
  listTasks,
  setTaskCompleted,
  toggleTask,
  updateTask,
} from "./task.ts";

/**
 * The version a change must find, and how a stale one is answered: the input's own (CONFLICT), or
 * the transport's If-Match precondition (PRECONDITION_FAILED), which an input version must match.
 */
function expectation(ctx: Pick<Context, "ifMatch">, version: number | undefined) {
  if (ctx.ifMatch === undefined) return { version, staleCode: "CONFLICT" as const };
  if (version !== undefined && version !== ctx.ifMatch) {
    throw new AppError("BAD_REQUEST", "If-Match and the body's version disagree");
  }
  return { version: ctx.ifMatch, staleCode: "PRECONDITION_FAILED" as const };
}

// The user id always comes from the verified token (ctx.userId), never from input.
export const taskRouter = router({
  list: protectedProcedure
    .input(zTaskListInput)
    .output(zTaskPage)
    .query(({ ctx, input }) => listTasks({ db: ctx.db, userId: ctx.userId, input })),

  byId: protectedProcedure
    .input(zTaskIdInput)
    .output(zTask)
    .query(({ ctx, input }) => getTask({ db: ctx.db, userId: ctx.userId, taskId: input.id })),

  stats: protectedProcedure
    .output(zTaskStats)
    .query(({ ctx }) => getTaskStats({ db: ctx.db, userId: ctx.userId })),

  create: protectedProcedure
    .input(zTaskCreate)
    .output(zTask)
    .mutation(({ ctx, input }) => createTask({ db: ctx.db, userId: ctx.userId, input })),

  update: protectedProcedure
    .input(zTaskUpdate)
    .output(zTask)
    .mutation(({ ctx, input }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      return updateTask({
        db: ctx.db,
        userId: ctx.userId,
        input: { ...input, version },
        staleCode,
      });
    }),

  /** Replaces every editable field: omitted ones go back to their defaults (REST's PUT). */
  replace: protectedProcedure
    .input(zTaskReplaceInput)
    .output(zTask)
    .mutation(({ ctx, input }) => {
      const { version, staleCode } = expectation(ctx, input.version);
      const replacement = { ...TASK_DEFAULTS, ...input, version };
      return updateTask({ db: ctx.db, userId: ctx.userId, input: replacement, staleCode });
    }),

  setCompleted: protectedProcedure
    .input(zTaskSetCompleted)
    .output(zTask)
    .mutation(({ ctx, input }) =>
      setTaskCompleted({
        db: ctx.db,
        userId: ctx.userId,
        taskId: input.id,
        completed: input.completed,
      }),
    ),

  toggle: protectedProcedure
    .input(zTaskVersionedIdInput)
    .output(zTask)
    .mutation(({ ctx, input }) =>
      toggleTask({
        db: ctx.db,
        userId: ctx.userId,
        taskId: input.id,
        ...expectation(ctx, input.version),
      }),
    ),

  delete: protectedProcedure
    .input(zTaskVersionedIdInput)
    .output(zDeleted)
    .mutation(({ ctx, input }) =>
      deleteTask({
        db: ctx.db,
        userId: ctx.userId,
        taskId: input.id,
        ...expectation(ctx, input.version),
      }),
    ),
});
