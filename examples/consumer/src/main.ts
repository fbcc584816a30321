// What a frontend writes: one import, typed end to end.
import { createClient } from "@todo/client";
import { createRestClient } from "@todo/client/rest";

const getToken = async () => "a Better Auth JWT";
const url = "http://127.0.0.1:3000";

export async function withTrpc() {
  const api = createClient({ url, getToken });
  const task = await api.task.create.mutate({ title: "Buy milk", priority: "high" });
  const done = await api.task.setCompleted.mutate({ id: task.id, completed: true });
  const page = await api.task.list.query({
    status: "open",
    sort: "dueAt",
    order: "asc",
    limit: 10,
  });
  const titles: string[] = page.items.map((t) => t.title);
  const next: string | null = page.nextCursor;
  const stats: { total: number; overdue: number } = await api.task.stats.query();
  return { done: done.completedAt, titles, next, stats };
}

export async function withRest(userId: string) {
  const rest = createRestClient({ url, getToken });
  const created = await rest.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: userId } },
    body: { title: "Buy milk", dueAt: "2030-01-01T09:00:00Z" },
  });
  const id: string | undefined = created.data?.data.id;
  const listed = await rest.GET("/api/{user_id}/tasks", {
    params: { path: { user_id: userId }, query: { limit: 5, sort: "title" } },
  });
  const cursor: string | null | undefined = listed.data?.meta.nextCursor;
  const code: string | undefined = listed.error?.error.code;
  return { id, cursor, code };
}
