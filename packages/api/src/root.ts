import { z } from "zod";
import { listRouter } from "./list/router.ts";
import { taskRouter } from "./task/router.ts";
import { createCallerFactory, protectedProcedure, router, scopeOf } from "./trpc.ts";
import { getMe } from "./user/user.ts";

export const zMe = z.object({ id: z.string(), createdAt: z.iso.datetime({ offset: true }) });

export const appRouter = router({
  /** The caller's account, created on first use. */
  me: protectedProcedure.output(zMe).query(({ ctx }) => getMe(scopeOf(ctx))),
  task: taskRouter,
  list: listRouter,
});

/** The type a frontend imports to get a fully typed `@trpc/client`. */
export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
