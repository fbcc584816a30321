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

/**
 * Lists, manual order, subtasks and labels: a list's whole life. Takes a client so the
 * quickstart can run it against a real server.
 */
export async function withLists(api = createClient({ url, getToken })) {
  const groceries = await api.list.create.mutate({ name: "Groceries", color: "#2E7D32" });
  const milk = await api.task.create.mutate({
    title: "Milk",
    listId: groceries.id,
    labels: ["dairy", "weekly"],
  });
  // A new task goes first in its list; a subtask goes in its parent's list.
  const bread = await api.task.create.mutate({ title: "Bread", listId: groceries.id });
  await api.task.create.mutate({ title: "Oat milk if none", parentId: milk.id });
  // The manual order is per sibling group: here the list's top level.
  const topLevel = async () => {
    const page = await api.task.list.query({
      listId: groceries.id,
      parentId: null,
      sort: "position",
      order: "asc",
    });
    return page.items.map((t) => t.title);
  };
  const order = await topLevel();
  await api.task.move.mutate({ id: bread.id, afterId: milk.id });
  const reordered = await topLevel();
  // To another list (first there, as no afterId is given); its subtasks follow.
  const errands = await api.list.create.mutate({ name: "Errands" });
  const moved = await api.task.move.mutate({ id: milk.id, listId: errands.id });
  const subtasks = await api.task.list.query({ parentId: milk.id });
  const labels: Array<{ label: string; count: number }> = await api.task.labels.query();
  const renamed = await api.list.update.mutate({
    id: groceries.id,
    version: groceries.version, // CONFLICT if someone changed the list since
    name: "Shopping",
    afterId: null, // first
  });
  const lists = await api.list.all.query();
  const deleted = [
    await api.list.delete.mutate({ id: renamed.id }),
    await api.list.delete.mutate({ id: errands.id }),
  ];
  return {
    list: groceries.name,
    order,
    reordered,
    movedTo: lists.find((l) => l.id === moved.listId)?.name,
    followed: subtasks.items.filter((t) => t.listId === moved.listId).length,
    labels,
    renamed: renamed.name,
    lists: lists.map((l) => l.name),
    deletedTasks: deleted.map((d) => d.deletedTasks),
  };
}

/** openapi-fetch answers `{ data }` or `{ error }`: the data, or the error thrown. */
function ok<T>(result: { data?: T; error?: { error: { code: string; message: string } } }): T {
  if (result.data !== undefined) return result.data;
  throw new Error(`REST: ${result.error?.error.code}: ${result.error?.error.message}`);
}

/** withLists over REST: the same calls, the same answers. */
export async function withRestLists(userId: string, rest = createRestClient({ url, getToken })) {
  const path = { user_id: userId };
  const { data: groceries } = ok(
    await rest.POST("/api/{user_id}/lists", {
      params: { path },
      body: { name: "Groceries", color: "#2E7D32" },
    }),
  );
  const listPath = { ...path, listId: groceries.id };
  const { data: milk } = ok(
    await rest.POST("/api/{user_id}/tasks", {
      params: { path },
      body: { title: "Milk", listId: groceries.id, labels: ["dairy", "weekly"] },
    }),
  );
  const { data: bread } = ok(
    await rest.POST("/api/{user_id}/tasks", {
      params: { path },
      body: { title: "Bread", listId: groceries.id },
    }),
  );
  ok(
    await rest.POST("/api/{user_id}/tasks", {
      params: { path },
      body: { title: "Oat milk if none", parentId: milk.id },
    }),
  );
  const topLevel = async () => {
    const page = ok(
      await rest.GET("/api/{user_id}/tasks", {
        // The top level is `parentId=null` in the query string; openapi-fetch would leave out
        // a null value, so it is spelled as the string.
        params: {
          path,
          query: { listId: groceries.id, parentId: "null", sort: "position", order: "asc" },
        },
      }),
    );
    return page.data.map((t) => t.title);
  };
  const order = await topLevel();
  ok(
    await rest.POST("/api/{user_id}/tasks/{id}/move", {
      params: { path: { ...path, id: bread.id } },
      body: { afterId: milk.id },
    }),
  );
  const reordered = await topLevel();
  const { data: errands } = ok(
    await rest.POST("/api/{user_id}/lists", { params: { path }, body: { name: "Errands" } }),
  );
  const { data: moved } = ok(
    await rest.POST("/api/{user_id}/tasks/{id}/move", {
      params: { path: { ...path, id: milk.id } },
      body: { listId: errands.id },
    }),
  );
  const subtasks = ok(
    await rest.GET("/api/{user_id}/tasks", { params: { path, query: { parentId: milk.id } } }),
  );
  const { data: labels } = ok(await rest.GET("/api/{user_id}/labels", { params: { path } }));
  const { data: renamed } = ok(
    await rest.PATCH("/api/{user_id}/lists/{listId}", {
      params: { path: listPath },
      body: { version: groceries.version, name: "Shopping", afterId: null },
    }),
  );
  const { data: lists } = ok(await rest.GET("/api/{user_id}/lists", { params: { path } }));
  const deleted = [
    ok(await rest.DELETE("/api/{user_id}/lists/{listId}", { params: { path: listPath } })).data,
    ok(
      await rest.DELETE("/api/{user_id}/lists/{listId}", {
        params: { path: { ...path, listId: errands.id } },
      }),
    ).data,
  ];
  return {
    list: groceries.name,
    order,
    reordered,
    movedTo: lists.find((l) => l.id === moved.listId)?.name,
    followed: subtasks.data.filter((t) => t.listId === moved.listId).length,
    labels,
    renamed: renamed.name,
    lists: lists.map((l) => l.name),
    deletedTasks: deleted.map((d) => d.deletedTasks),
  };
}
