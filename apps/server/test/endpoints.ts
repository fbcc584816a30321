// Every REST route and tRPC procedure, described once, so the same security and validation cases
// run against each of them (security.test.ts).

import {
  type HttpResult,
  type Outcome,
  outcome,
  rest,
  type TestServer,
  trpcClient,
} from "./harness.ts";
import { openRestStream } from "./support/sse.ts";

export type Target = { userId: string; taskId: string; listId: string };
type Call = (server: TestServer, auth: string | undefined, target: Target) => Promise<Outcome>;

export type Endpoint = {
  name: string;
  surface: "rest" | "trpc";
  /** Acts on one task or list (the target's), so another user's id must look missing. */
  scoped: boolean;
  /** Changes the target task (it must stay unchanged when someone else calls). */
  writes: boolean;
  success: number;
  call: Call;
  /** The same call with invalid input; null for endpoints that take none. */
  invalid: Call | null;
};

export function restOutcome(result: HttpResult): Outcome & { http: HttpResult } {
  return {
    status: result.status,
    code: result.body?.error?.code,
    data: result.body?.data,
    issues: result.body?.error?.issues,
    http: result,
  };
}

const r =
  (
    method: string,
    path: (t: Target) => string,
    body?: unknown,
    bodyFor?: (t: Target) => unknown,
  ): Call =>
  async (server, auth, target) =>
    restOutcome(
      await rest(server, method, path(target), { auth, body: bodyFor ? bodyFor(target) : body }),
    );

const tasks = (t: Target) => `/api/${encodeURIComponent(t.userId)}/tasks`;

/**
 * A live stream opened and closed again at once: its status (and body when refused). What a
 * stream carries is the subject of live.test.ts; here, who may open one.
 */
const stream =
  (query = ""): Call =>
  async (server, auth, target) => {
    const opened = await openRestStream(`${server.baseUrl}${tasks(target)}/events${query}`, {
      ...(auth === undefined ? {} : { authorization: auth }),
    });
    opened.close();
    const body = opened.body as { data?: unknown; error?: { code: string; issues?: unknown } };
    return {
      status: opened.status,
      code: body?.error?.code,
      data: body?.data ?? null,
      issues: body?.error?.issues,
    };
  };

/**
 * A tRPC subscription: the status of the error it ends with, or 200 when it is still open a moment
 * after it started (over SSE the connection opens first; a refusal follows at once as its event).
 */
const subscription =
  (input: { since?: string } | undefined): Call =>
  (server, auth) =>
    new Promise((resolve) => {
      const client = trpcClient(server, auth);
      let timer: NodeJS.Timeout | undefined;
      const sub = client.task.onChange.subscribe(input, {
        onStarted: () => {
          timer = setTimeout(() => {
            sub.unsubscribe();
            resolve({ status: 200, data: null });
          }, 250);
        },
        onError: (error) => {
          clearTimeout(timer);
          sub.unsubscribe();
          const data = error.data as { httpStatus: number; code: string; issues?: unknown };
          resolve({ status: data?.httpStatus ?? 0, code: data?.code, issues: data?.issues });
        },
      });
    });
const task = (t: Target) => `${tasks(t)}/${t.taskId}`;
const lists = (t: Target) => `/api/${encodeURIComponent(t.userId)}/lists`;
const list = (t: Target) => `${lists(t)}/${t.listId}`;

export const restEndpoints: Endpoint[] = [
  {
    name: "GET /api/:user_id/tasks",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("GET", tasks),
    invalid: r("GET", (t) => `${tasks(t)}?limit=0`),
  },
  {
    name: "POST /api/:user_id/tasks",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 201,
    call: r("POST", tasks, { title: "posted" }),
    invalid: r("POST", tasks, { title: "   " }),
  },
  {
    name: "GET /api/:user_id/tasks/stats",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("GET", (t) => `${tasks(t)}/stats`),
    invalid: null,
  },
  {
    name: "GET /api/:user_id/tasks/changes",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("GET", (t) => `${tasks(t)}/changes`),
    invalid: r("GET", (t) => `${tasks(t)}/changes?limit=501`),
  },
  {
    name: "GET /api/:user_id/tasks/events",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: stream(),
    invalid: stream(`?since=${"x".repeat(201)}`),
  },
  {
    name: "POST /api/:user_id/tasks/events/ticket",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("POST", (t) => `${tasks(t)}/events/ticket`),
    invalid: null,
  },
  {
    name: "POST /api/:user_id/tasks/batch",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r(
      "POST",
      (t) => `${tasks(t)}/batch`,
      undefined,
      (t) => ({
        ops: [{ op: "update", id: t.taskId, title: "batched" }],
      }),
    ),
    invalid: r("POST", (t) => `${tasks(t)}/batch`, { ops: [] }),
  },
  {
    name: "POST /api/:user_id/tasks/clear-completed",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("POST", (t) => `${tasks(t)}/clear-completed`),
    invalid: null,
  },
  {
    name: "GET /api/:user_id/tasks/:id",
    surface: "rest",
    scoped: true,
    writes: false,
    success: 200,
    call: r("GET", task),
    invalid: r("GET", (t) => `${tasks(t)}/not-a-uuid`),
  },
  {
    name: "PUT /api/:user_id/tasks/:id",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("PUT", task, { title: "replaced" }),
    invalid: r("PUT", task, { description: "no title" }),
  },
  {
    name: "PATCH /api/:user_id/tasks/:id",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("PATCH", task, { title: "patched" }),
    invalid: r("PATCH", task, { priority: "urgent" }),
  },
  {
    name: "PATCH /api/:user_id/tasks/:id/complete",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("PATCH", (t) => `${task(t)}/complete`),
    invalid: r("PATCH", (t) => `${tasks(t)}/123/complete`),
  },
  {
    name: "DELETE /api/:user_id/tasks/:id",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("DELETE", task),
    invalid: r("DELETE", (t) => `${tasks(t)}/'%20OR%201=1`),
  },
  {
    name: "POST /api/:user_id/tasks/:id/move",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("POST", (t) => `${task(t)}/move`, { afterId: null }),
    invalid: r("POST", (t) => `${task(t)}/move`, { afterId: "first" }),
  },
  {
    name: "GET /api/:user_id/labels",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("GET", (t) => `/api/${encodeURIComponent(t.userId)}/labels`),
    invalid: null,
  },
  {
    name: "GET /api/:user_id/lists",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 200,
    call: r("GET", lists),
    invalid: null,
  },
  {
    name: "POST /api/:user_id/lists",
    surface: "rest",
    scoped: false,
    writes: false,
    success: 201,
    call: r("POST", lists, { name: "posted" }),
    invalid: r("POST", lists, { name: "x".repeat(101) }),
  },
  {
    name: "GET /api/:user_id/lists/:listId",
    surface: "rest",
    scoped: true,
    writes: false,
    success: 200,
    call: r("GET", list),
    invalid: r("GET", (t) => `${lists(t)}/not-a-uuid`),
  },
  {
    name: "PATCH /api/:user_id/lists/:listId",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("PATCH", list, { name: "renamed" }),
    invalid: r("PATCH", list, { color: "red" }),
  },
  {
    name: "DELETE /api/:user_id/lists/:listId",
    surface: "rest",
    scoped: true,
    writes: true,
    success: 200,
    call: r("DELETE", list),
    invalid: r("DELETE", (t) => `${lists(t)}/42`),
  },
];

type Client = ReturnType<typeof trpcClient>;
const t =
  (run: (client: Client, target: Target) => Promise<unknown>): Call =>
  (server, auth, target) =>
    outcome(() => run(trpcClient(server, auth), target));

export const trpcEndpoints: Endpoint[] = [
  {
    name: "me",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.me.query()),
    invalid: null,
  },
  {
    name: "task.list",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.list.query({})),
    invalid: t((c) => c.task.list.query({ limit: 1000 })),
  },
  {
    name: "task.stats",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.stats.query()),
    invalid: null,
  },
  {
    name: "task.create",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.create.mutate({ title: "created" })),
    invalid: t((c) => c.task.create.mutate({ title: "x".repeat(201) })),
  },
  {
    name: "task.changes",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.changes.query({})),
    invalid: t((c) => c.task.changes.query({ limit: 501 })),
  },
  {
    name: "task.onChange",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: subscription(undefined),
    invalid: subscription({ since: "x".repeat(201) }),
  },
  {
    name: "task.streamTicket",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.streamTicket.mutate()),
    invalid: null,
  },
  {
    name: "task.clearCompleted",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.clearCompleted.mutate()),
    invalid: null,
  },
  {
    name: "task.batch",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.batch.mutate({ ops: [{ op: "delete", id: x.taskId }] })),
    invalid: t((c, x) =>
      c.task.batch.mutate({ ops: [{ op: "update", id: x.taskId }] as never, atomic: true }),
    ),
  },
  {
    name: "task.byId",
    surface: "trpc",
    scoped: true,
    writes: false,
    success: 200,
    call: t((c, x) => c.task.byId.query({ id: x.taskId })),
    invalid: t((c) => c.task.byId.query({ id: "42" })),
  },
  {
    name: "task.update",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.update.mutate({ id: x.taskId, title: "updated" })),
    invalid: t((c, x) => c.task.update.mutate({ id: x.taskId, dueAt: "tomorrow" })),
  },
  {
    name: "task.replace",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.replace.mutate({ id: x.taskId, title: "replaced" })),
    invalid: t((c, x) =>
      c.task.replace.mutate({ id: x.taskId, title: "" as string, priority: "urgent" as "low" }),
    ),
  },
  {
    name: "task.setCompleted",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.setCompleted.mutate({ id: x.taskId, completed: true })),
    invalid: t((c, x) =>
      c.task.setCompleted.mutate({ id: x.taskId, completed: "yes" as unknown as boolean }),
    ),
  },
  {
    name: "task.toggle",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.toggle.mutate({ id: x.taskId })),
    invalid: t((c) => c.task.toggle.mutate({ id: "" })),
  },
  {
    name: "task.delete",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.delete.mutate({ id: x.taskId })),
    invalid: t((c) => c.task.delete.mutate({ id: "../../etc/passwd" })),
  },
  {
    name: "task.move",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.task.move.mutate({ id: x.taskId, afterId: null })),
    invalid: t((c, x) => c.task.move.mutate({ id: x.taskId, listId: "inbox" })),
  },
  {
    name: "task.labels",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.task.labels.query()),
    invalid: null,
  },
  {
    name: "list.all",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.list.all.query()),
    invalid: null,
  },
  {
    name: "list.byId",
    surface: "trpc",
    scoped: true,
    writes: false,
    success: 200,
    call: t((c, x) => c.list.byId.query({ id: x.listId })),
    invalid: t((c) => c.list.byId.query({ id: "1" })),
  },
  {
    name: "list.create",
    surface: "trpc",
    scoped: false,
    writes: false,
    success: 200,
    call: t((c) => c.list.create.mutate({ name: "created" })),
    invalid: t((c) => c.list.create.mutate({ name: "" })),
  },
  {
    name: "list.update",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.list.update.mutate({ id: x.listId, name: "renamed" })),
    invalid: t((c, x) => c.list.update.mutate({ id: x.listId })),
  },
  {
    name: "list.delete",
    surface: "trpc",
    scoped: true,
    writes: true,
    success: 200,
    call: t((c, x) => c.list.delete.mutate({ id: x.listId })),
    invalid: t((c) => c.list.delete.mutate({ id: "" })),
  },
];
