// Compiled by `pnpm typecheck`, never run: the typed client must refuse each call below. If any of
// them ever compiles, its @ts-expect-error is unused and the typecheck fails.
import type { AppRouter } from "@todo/api/router";
import { createTRPCClient, httpLink } from "@trpc/client";

const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "http://127.0.0.1/trpc" })] });

export const wrongCalls = [
  // @ts-expect-error unknown procedure
  () => api.task.archive.mutate({ id: "x" }),
  // @ts-expect-error priority is an enum
  () => api.task.create.mutate({ title: "x", priority: "urgent" }),
  // @ts-expect-error title is required
  () => api.task.create.mutate({}),
  // @ts-expect-error userId is never an input
  () => api.task.list.query({ userId: "someone" }),
  // @ts-expect-error a query is not a mutation
  () => api.task.list.mutate({}),
  // @ts-expect-error byId needs an id
  () => api.task.byId.query(),
];

// And the right calls are typed end to end: the result of a query is a task page.
export const rightCall = async () => {
  const page = await api.task.list.query({ status: "open", sort: "dueAt", order: "asc" });
  const title: string | undefined = page.items[0]?.title;
  const next: string | null = page.nextCursor;
  return { title, next };
};
