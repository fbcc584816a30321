import { protectedProcedure, router } from "../trpc.ts";
import {
  zDeleted,
  zTask,
  zTaskCreate,
  zTaskIdInput,
  zTaskListInput,
  zTaskPage,
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
    .mutation(({ ctx, input }) => updateTask({ db: ctx.db, userId: ctx.userId, input })),

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
      toggleTask({ db: ctx.db, userId: ctx.userId, taskId: input.id, version: input.version }),
    ),

  delete: protectedProcedure
    .input(zTaskVersionedIdInput)
    .output(zDeleted)
    .mutation(({ ctx, input }) =>
      deleteTask({ db: ctx.db, userId: ctx.userId, taskId: input.id, version: input.version }),
    ),
});
