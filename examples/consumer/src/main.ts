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

/** An offline-first client: an outbox flushed as one atomic batch, then the change feed. */
export async function withSync(since: string | undefined) {
  const api = createClient({ url, getToken });
  const id = crypto.randomUUID(); // the client names its tasks: no temp ids, retries are safe
  const { results } = await api.task.batch.mutate(
    {
      ops: [
        { op: "create", id, title: "Written offline" },
        { op: "setCompleted", id, completed: true },
      ],
    },
    // The same key on every retry of this flush: the server answers it once.
    { context: { idempotencyKey: crypto.randomUUID() } },
  );
  const created: boolean = results.every((r) => r.ok);
  const page = await api.task.changes.query({ since, limit: 100 });
  const removed: string[] = page.changes.filter((c) => c.deleted).map((c) => c.id);
  const cursor: string = page.nextCursor;
  const { count } = await api.task.clearCompleted.mutate();
  return { created, removed, cursor, more: page.hasMore, count };
}

/** Live changes: what the feed holds after `since`, then each change as it commits. */
export function withLive(since: string | undefined, onChange: (id: string, gone: boolean) => void) {
  const api = createClient({ url, getToken });
  const subscription = api.task.onChange.subscribe(
    { since },
    {
      // Each event's id is a feed cursor: keep the last one to resume (the client does on its own).
      onData: ({ id: cursor, data }) => {
        const last: string = cursor;
        onChange(data.id, data.deleted && last.length > 0);
      },
      onError: (error) => console.error(error.data?.code),
    },
  );
  return () => subscription.unsubscribe();
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
  const changes = await rest.GET("/api/{user_id}/tasks/changes", {
    params: { path: { user_id: userId }, query: { limit: 100 } },
  });
  const since: string | undefined = changes.data?.meta.nextCursor;
  const batch = await rest.POST("/api/{user_id}/tasks/batch", {
    params: { path: { user_id: userId }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { ops: [{ op: "delete", id: id ?? "" }], atomic: false },
  });
  const failedAt: number | undefined = batch.error?.error.index;
  return { id, cursor, code, since, failedAt };
}
