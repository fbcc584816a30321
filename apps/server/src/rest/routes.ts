// The REST adapter's one route table: each route names its procedure, how the request maps to the
// procedure's input, how the result is answered, and its OpenAPI operation. The Express routes
// (rest/tasks.ts), the 405 Allow lists, the OpenAPI document (rest/openapi.ts) and the test
// suite's list of endpoints are all read from it, so they cannot drift.
import { AppError } from "@todo/api/errors";
import { zList, zListCreate, zListDeleted, zListPatch } from "@todo/api/list/schemas";
import type { createCaller } from "@todo/api/router";
import {
  zDeletedCount,
  zLabelCount,
  zStreamTicket,
  zTask,
  zTaskBatchInput,
  zTaskBatchResult,
  zTaskChange,
  zTaskChangesQuery,
  zTaskCreate,
  zTaskListQuery,
  zTaskMove,
  zTaskPatch,
  zTaskReplace,
  zTaskStats,
  zVersion,
} from "@todo/api/task/schemas";
import type { Request } from "express";
import { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";
import "../http/locals.ts";

type Caller = ReturnType<typeof createCaller>;

export type RestRoute = {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** As in the OpenAPI document: `/api/{user_id}/tasks/{id}`. */
  path: string;
  /** The tRPC procedure it calls, for readers (README, docs). */
  procedure: string;
  /** Calls the procedure with the input mapped from the path, query string and body. */
  call: (caller: Caller, req: Request) => Promise<unknown>;
  /**
   * How the result is answered: a task (ETag; Location when created), a list page, a feed page
   * (`data` the changes), a batch (`data` the results), or plain data.
   */
  answer: "task" | "created" | "page" | "changes" | "results" | "data" | "stream";
  // ("task" and "created" answer a list the same way: ETag from its version, Location of it.)
  success: 200 | 201;
  operation: ZodOpenApiOperationObject;
};

/** Client input typed as the procedure's input: the procedure validates it, not this cast. */
const untrusted = <T>(value: unknown): T => value as T;

/** Query strings arrive as strings; repeated keys (arrays) are refused, numbers are numbers. */
function inputFromQuery(query: Request["query"]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== "string") {
      throw new AppError("BAD_REQUEST", `Query parameter "${key}" must be given once`);
    }
    // `parentId=null`: top-level tasks only.
    input[key] =
      key === "limit" ? Number(value) : key === "parentId" && value === "null" ? null : value;
  }
  return input;
}

/** A JSON object body. */
function bodyObject(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("BAD_REQUEST", "Body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** The body of a route whose path names the task or list: its id cannot be set in the body. */
function bodyOfNamed(req: Request): Record<string, unknown> {
  const body = bodyObject(req);
  if (Object.hasOwn(body, "id")) throw new AppError("BAD_REQUEST", '"id" cannot be set');
  return body;
}

/** A DELETE's optional body (`{ version }`): none at all, or a JSON object the procedure checks. */
const optionalBodyOfNamed = (req: Request) => (req.body === undefined ? {} : bodyOfNamed(req));

const taskId = (req: Request) => req.params.id as string;
const listId = (req: Request) => req.params.listId as string;

/** Where a live stream resumes: Last-Event-ID (an EventSource reconnecting) or `?since=`. */
function streamStart(req: Request): string | undefined {
  const query = inputFromQuery(req.query);
  // (A token-named parameter never gets here: identifyRequest refuses it on every route.)
  for (const key of Object.keys(query)) {
    // `ticket`: a stream ticket, taken as the request's credential (http/authenticate.ts).
    if (key !== "since" && key !== "ticket") {
      throw new AppError("BAD_REQUEST", `Unknown query parameter "${key}"`);
    }
  }
  return req.get("last-event-id") || (query.since as string | undefined);
}

// The OpenAPI pieces the operations share.
const zMeta = z.object({ requestId: z.string() }).meta({ id: "Meta" });
export const zListMeta = zMeta
  .extend({ limit: z.number().int(), count: z.number().int(), nextCursor: z.string().nullable() })
  .meta({ id: "ListMeta" });
const zError = z
  .object({
    data: z.null(),
    error: z.object({
      code: z.string().meta({ example: "NOT_FOUND" }),
      message: z.string(),
      issues: z
        .object({
          formErrors: z.array(z.string()),
          fieldErrors: z.record(z.string(), z.array(z.string())),
        })
        .optional()
        .meta({ description: "Field issues of a validation failure (400)" }),
      index: z
        .number()
        .int()
        .optional()
        .meta({ description: "The operation of an atomic batch that failed, from 0" }),
    }),
    meta: zMeta,
  })
  .meta({ id: "Error" });
const envelope = <T extends z.ZodType>(data: T, meta: z.ZodType = zMeta) =>
  z.object({ data, meta });
const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });
const errorResponse = (description: string) => ({ description, ...json(zError) });
const etag = z
  .string()
  .meta({ description: "The task's (or list's) version, for If-Match", example: '"3"' });
const idempotencyKey = z.string().optional().meta({
  description:
    'Makes a retry safe: the first answer is kept 24 h and given again (Idempotent-Replayed: true) to the same request with the same key; the key with another request is 422, while the first still runs 409. A Structured Field string, as in "8e03978e-40d5-43e8-bc93-6894a57f9324"',
});
const writeHeaders = z.object({ "Idempotency-Key": idempotencyKey });
const ifMatch = writeHeaders.extend({
  "If-Match": z.string().optional().meta({
    description: 'Apply only if the task (or list) is still at this ETag (as in "3"); else 412',
  }),
});
const replayed = z
  .literal("true")
  .optional()
  .meta({ description: "Present when this is the kept answer to an earlier request with the key" });

// Every route answers these; each operation adds its own.
const commonErrors = {
  "400": errorResponse("Invalid input, with field issues"),
  "401": errorResponse("Missing or invalid bearer token"),
  "403": errorResponse("The path's user id is not the token's subject"),
  "429": errorResponse("Rate limited; see Retry-After"),
  "500": errorResponse("A bug: generic message, details in the server log"),
  "503": errorResponse("Database unavailable or request deadline passed; see Retry-After"),
};
/** The errors of a route that names one task or list: 404 when the caller has no such one. */
const namedErrors = (what: "task" | "list") => ({
  ...commonErrors,
  "404": errorResponse(`No such ${what} for this user`),
});
const taskErrors = namedErrors("task");
const keyErrors = {
  "409": errorResponse("A request with this Idempotency-Key is still running"),
  "422": errorResponse("This Idempotency-Key was used for a different request"),
};
const bodyErrors = {
  "413": errorResponse("Body over 256 KiB"),
  "415": errorResponse("Body is not application/json"),
};
/** ...and of one that changes it: a stale version, a key still in use, a body refused. */
const namedWriteErrors = (what: "task" | "list") => ({
  ...namedErrors(what),
  ...keyErrors,
  "409": errorResponse("Stale `version` in the body, or the Idempotency-Key's request still runs"),
  "412": errorResponse("Stale If-Match"),
  ...bodyErrors,
});
const writeErrors = namedWriteErrors("task");
/** A delete's optional body: the version it must find (as If-Match does). */
const versionBody = {
  required: false,
  ...json(
    z.strictObject({
      version: zVersion
        .optional()
        .meta({ description: "Delete only if still at this version (else 409)" }),
    }),
  ),
};
const userPath = z.object({ user_id: z.string().meta({ description: "The token's subject" }) });
const taskPath = userPath.extend({ id: z.uuid() });
const listPath = userPath.extend({ listId: z.uuid() });
const listErrors = namedErrors("list");
const listWriteErrors = namedWriteErrors("list");
/** A task's or list's answer: the item, its ETag, and the replay marker. */
const versionedResponse = (data: z.ZodType) => (description: string) => ({
  description,
  headers: z.object({ ETag: etag, "Idempotent-Replayed": replayed }),
  ...json(envelope(data)),
});
const listResponse = versionedResponse(zList);
const taskResponse = versionedResponse(zTask);
/** A write's answer that is not a task: its data, and the replay marker. */
const writeResponse = (description: string, data: z.ZodType) => ({
  description,
  headers: z.object({ "Idempotent-Replayed": replayed }),
  ...json(envelope(data)),
});
const zFeedMeta = zMeta
  .extend({
    nextCursor: z
      .string()
      .meta({ description: "Pass as `since` for the next page; unchanged when nothing changed" }),
    hasMore: z.boolean().meta({ description: "More changes are ready now: ask again at once" }),
  })
  .meta({ id: "FeedMeta" });

/** The list's query as a query string spells it: `parentId=null` for top-level tasks only. */
const zTaskListRestQuery = zTaskListQuery.safeExtend({
  parentId: z
    .union([z.uuid(), z.literal("null")])
    .optional()
    .meta({ description: "One task's subtasks; `null`: top-level tasks only" }),
});

/** In registration order: a path's literal routes (…/stats) before its parameter routes (…/:id). */
export const REST_ROUTES: RestRoute[] = [
  {
    method: "get",
    path: "/api/{user_id}/tasks",
    procedure: "task.list",
    call: (caller, req) => caller.task.list(untrusted(inputFromQuery(req.query))),
    answer: "page",
    success: 200,
    operation: {
      operationId: "listTasks",
      summary: "List the caller's tasks (filtered, sorted, cursor-paginated)",
      requestParams: { path: userPath, query: zTaskListRestQuery },
      responses: {
        "200": { description: "One page", ...json(envelope(z.array(zTask), zListMeta)) },
        ...commonErrors,
      },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/tasks",
    procedure: "task.create",
    call: (caller, req) => caller.task.create(untrusted(bodyObject(req))),
    answer: "created",
    success: 201,
    operation: {
      operationId: "createTask",
      summary: "Create a task (with a client-chosen id, a retried create creates nothing)",
      description:
        "Give `id` (a UUID; v7 recommended) to make the create safe to retry: the same id with the same fields answers 201 with the task as it is now and creates nothing; the same id with other fields, or an id that is not free, is 409.",
      requestParams: { path: userPath, header: writeHeaders },
      requestBody: json(zTaskCreate),
      responses: {
        "201": {
          ...taskResponse("Created (or created before by the same request)"),
          headers: z.object({ ETag: etag, Location: z.string(), "Idempotent-Replayed": replayed }),
        },
        ...commonErrors,
        ...keyErrors,
        "404": errorResponse("No such list (listId) or parent task (parentId) for this user"),
        "409": errorResponse(
          "The id is taken (by another task or another create), or the Idempotency-Key's request still runs",
        ),
        ...bodyErrors,
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/tasks/changes",
    procedure: "task.changes",
    call: (caller, req) => caller.task.changes(untrusted(inputFromQuery(req.query))),
    answer: "changes",
    success: 200,
    operation: {
      operationId: "listTaskChanges",
      summary: "The change feed: tasks changed after a cursor, tombstones included",
      description:
        "Tasks and lists (`kind`), the Inbox once it has changed. Without `since`, a full sync: every task and list, plus the deletions still retained. Each change is the task's latest state, at most once per page, in commit order; keep paging with `meta.nextCursor` and no change is missed or seen twice. A cursor older than the retained deletions is 410: sync again without `since`.",
      requestParams: { path: userPath, query: zTaskChangesQuery },
      responses: {
        "200": {
          description: "One page of changes",
          ...json(envelope(z.array(zTaskChange), zFeedMeta)),
        },
        ...commonErrors,
        "410": errorResponse("The cursor is older than the retained deletions: sync from scratch"),
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/tasks/events",
    procedure: "task.onChange",
    call: (caller, req) => caller.task.onChange({ since: streamStart(req) }),
    answer: "stream",
    success: 200,
    operation: {
      operationId: "streamTaskChanges",
      summary: "Live changes as Server-Sent Events",
      description:
        '`text/event-stream`: first `event: ready` with `id: <cursor>` and `data: { cursor }` (where the stream starts: resume from it even before any change), then each change of the feed as `id: <cursor>`, `event: change`, `data: { kind: "task", id, deleted, task }` or `data: { kind: "list", id, deleted, list }`, first what the feed holds after `Last-Event-ID` (or `?since=`), then each change as it commits; without either, from now. A `: ping` comment at least every 15 s and a `retry:` hint; `event: end` with `data: { reason }` (`token_expired`, `shutdown`) before the server closes it. A client that does not keep up is disconnected; it resumes with Last-Event-ID.',
      requestParams: {
        path: userPath,
        query: z.object({
          since: z.string().optional(),
          ticket: z.string().optional().meta({
            description:
              "A stream ticket (POST …/events/ticket), instead of the Authorization header",
          }),
        }),
        header: z.object({ "Last-Event-ID": z.string().optional() }),
      },
      responses: {
        "200": {
          description: "The event stream",
          content: { "text/event-stream": { schema: z.string() } },
        },
        ...commonErrors,
        "410": errorResponse("The cursor is older than the retained deletions: sync from scratch"),
      },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/tasks/events/ticket",
    procedure: "task.streamTicket",
    call: (caller) => caller.task.streamTicket(),
    answer: "data",
    success: 200,
    operation: {
      operationId: "createStreamTicket",
      summary: "A ticket for a browser's EventSource",
      description:
        "A browser's native EventSource cannot send an Authorization header, and a token is never taken from a URL: open the stream with `?ticket=<ticket>` instead (tRPC: `connectionParams: { ticket }`). At most 60 s, bound to this user, usable once; the stream it opens ends when the token it was issued for expires.",
      requestParams: { path: userPath, header: writeHeaders },
      responses: {
        "200": writeResponse("The ticket", zStreamTicket),
        ...commonErrors,
        ...keyErrors,
      },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/tasks/batch",
    procedure: "task.batch",
    call: (caller, req) => caller.task.batch(untrusted(bodyObject(req))),
    answer: "results",
    success: 200,
    operation: {
      operationId: "batchTasks",
      summary: "Several operations in order, atomically by default",
      description:
        "1-100 operations (`create`, `update`, `setCompleted`, `delete`, `move`), in order; later ones may name ids created by earlier ones. Atomic (the default): one transaction; the first failure is the answer (its status, and `error.index` names the operation) and nothing is applied. `atomic: false`: each operation stands alone and answers for itself. Each operation counts against the rate limit.",
      requestParams: { path: userPath, header: writeHeaders },
      requestBody: json(zTaskBatchInput),
      responses: {
        "200": writeResponse("One result per operation", z.array(zTaskBatchResult)),
        ...commonErrors,
        "404": errorResponse("Atomic: an operation's task does not exist (`error.index`)"),
        ...keyErrors,
        "409": errorResponse(
          "Atomic: an operation's version is stale or its id taken (`error.index`)",
        ),
        ...bodyErrors,
      },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/tasks/clear-completed",
    procedure: "task.clearCompleted",
    call: (caller) => caller.task.clearCompleted(),
    answer: "data",
    success: 200,
    operation: {
      operationId: "clearCompletedTasks",
      summary: "Delete every completed task; how many",
      requestParams: { path: userPath, header: writeHeaders },
      responses: {
        "200": writeResponse("Deleted", zDeletedCount),
        ...commonErrors,
        ...keyErrors,
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/tasks/stats",
    procedure: "task.stats",
    call: (caller) => caller.task.stats(),
    answer: "data",
    success: 200,
    operation: {
      operationId: "getTaskStats",
      summary: "Counts of the caller's tasks",
      requestParams: { path: userPath },
      responses: {
        "200": { description: "Counts", ...json(envelope(zTaskStats)) },
        ...commonErrors,
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/tasks/{id}",
    procedure: "task.byId",
    call: (caller, req) => caller.task.byId({ id: taskId(req) }),
    answer: "task",
    success: 200,
    operation: {
      operationId: "getTask",
      summary: "One task",
      requestParams: { path: taskPath },
      responses: { "200": taskResponse("The task"), ...taskErrors },
    },
  },
  {
    method: "put",
    path: "/api/{user_id}/tasks/{id}",
    procedure: "task.replace",
    call: (caller, req) => caller.task.replace(untrusted({ ...bodyOfNamed(req), id: taskId(req) })),
    answer: "task",
    success: 200,
    operation: {
      operationId: "replaceTask",
      summary: "Replace a task's editable fields (omitted ones back to their defaults)",
      requestParams: { path: taskPath, header: ifMatch },
      requestBody: json(zTaskReplace),
      responses: { "200": taskResponse("Replaced"), ...writeErrors },
    },
  },
  {
    method: "patch",
    path: "/api/{user_id}/tasks/{id}",
    procedure: "task.update",
    call: (caller, req) => caller.task.update(untrusted({ ...bodyOfNamed(req), id: taskId(req) })),
    answer: "task",
    success: 200,
    operation: {
      operationId: "updateTask",
      summary: "Change some of a task's fields",
      requestParams: { path: taskPath, header: ifMatch },
      requestBody: json(zTaskPatch),
      responses: { "200": taskResponse("Updated"), ...writeErrors },
    },
  },
  {
    method: "delete",
    path: "/api/{user_id}/tasks/{id}",
    procedure: "task.delete",
    call: (caller, req) =>
      caller.task.delete(untrusted({ ...optionalBodyOfNamed(req), id: taskId(req) })),
    answer: "data",
    success: 200,
    operation: {
      operationId: "deleteTask",
      summary: "Delete a task (and its subtasks)",
      requestParams: { path: taskPath, header: ifMatch },
      requestBody: versionBody,
      responses: {
        "200": writeResponse(
          "Deleted (kept as a tombstone for the change feed)",
          z.object({ id: z.string() }),
        ),
        ...writeErrors,
      },
    },
  },
  {
    method: "patch",
    path: "/api/{user_id}/tasks/{id}/complete",
    procedure: "task.toggle",
    call: (caller, req) => caller.task.toggle({ id: taskId(req) }),
    answer: "task",
    success: 200,
    operation: {
      operationId: "toggleTask",
      summary: "Toggle a task's completion",
      requestParams: { path: taskPath, header: ifMatch },
      responses: { "200": taskResponse("Toggled"), ...writeErrors },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/tasks/{id}/move",
    procedure: "task.move",
    call: (caller, req) => caller.task.move(untrusted({ ...bodyOfNamed(req), id: taskId(req) })),
    answer: "task",
    success: 200,
    operation: {
      operationId: "moveTask",
      summary: "Place a task after another, in another list or under another parent",
      description:
        "Places the task right after `afterId` (null or omitted: first) among its siblings. `afterId` names the list and parent by itself; without it, the list is `listId` (else the parent's, else the task's own) and the parent is `parentId` (null: top level; omitted: the task's own when it stays in its list). Subtasks follow their parent to another list; a task with subtasks cannot become a subtask. Only the moved task gets a new version. Every id must be the caller's: another user's is 404, as a missing one.",
      requestParams: { path: taskPath, header: ifMatch },
      requestBody: json(zTaskMove),
      responses: {
        "200": taskResponse("Moved"),
        ...writeErrors,
        "404": errorResponse("No such task, list, parent or afterId for this user"),
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/labels",
    procedure: "task.labels",
    call: (caller) => caller.task.labels(),
    answer: "data",
    success: 200,
    operation: {
      operationId: "listLabels",
      summary: "The caller's labels, with how many tasks carry each",
      requestParams: { path: userPath },
      responses: {
        "200": { description: "Labels by name", ...json(envelope(z.array(zLabelCount))) },
        ...commonErrors,
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/lists",
    procedure: "list.all",
    call: (caller) => caller.list.all(),
    answer: "data",
    success: 200,
    operation: {
      operationId: "listLists",
      summary: "The caller's lists in their order (the Inbox among them)",
      requestParams: { path: userPath },
      responses: {
        "200": { description: "Every list", ...json(envelope(z.array(zList))) },
        ...commonErrors,
      },
    },
  },
  {
    method: "post",
    path: "/api/{user_id}/lists",
    procedure: "list.create",
    call: (caller, req) => caller.list.create(untrusted(bodyObject(req))),
    answer: "created",
    success: 201,
    operation: {
      operationId: "createList",
      summary: "Create a list (last in the order; at most 200 per user)",
      requestParams: { path: userPath, header: writeHeaders },
      requestBody: json(zListCreate),
      responses: {
        "201": {
          ...listResponse("Created (or created before by the same request)"),
          headers: z.object({ ETag: etag, Location: z.string(), "Idempotent-Replayed": replayed }),
        },
        ...commonErrors,
        ...keyErrors,
        "409": errorResponse(
          "The user has 200 lists already, the id is taken, or the Idempotency-Key's request still runs",
        ),
        ...bodyErrors,
      },
    },
  },
  {
    method: "get",
    path: "/api/{user_id}/lists/{listId}",
    procedure: "list.byId",
    call: (caller, req) => caller.list.byId({ id: listId(req) }),
    answer: "task",
    success: 200,
    operation: {
      operationId: "getList",
      summary: "One list",
      requestParams: { path: listPath },
      responses: { "200": listResponse("The list"), ...listErrors },
    },
  },
  {
    method: "patch",
    path: "/api/{user_id}/lists/{listId}",
    procedure: "list.update",
    call: (caller, req) => caller.list.update(untrusted({ ...bodyOfNamed(req), id: listId(req) })),
    answer: "task",
    success: 200,
    operation: {
      operationId: "updateList",
      summary: "Rename, recolor or reorder a list",
      requestParams: { path: listPath, header: ifMatch },
      requestBody: json(zListPatch),
      responses: { "200": listResponse("Updated"), ...listWriteErrors },
    },
  },
  {
    method: "delete",
    path: "/api/{user_id}/lists/{listId}",
    procedure: "list.delete",
    call: (caller, req) =>
      caller.list.delete(untrusted({ ...optionalBodyOfNamed(req), id: listId(req) })),
    answer: "data",
    success: 200,
    operation: {
      operationId: "deleteList",
      summary: "Delete a list and its tasks (not the Inbox)",
      description:
        "The list and its tasks become tombstones in the change feed. The Inbox cannot be deleted (400).",
      requestParams: { path: listPath, header: ifMatch },
      requestBody: versionBody,
      responses: {
        "200": writeResponse("Deleted, with how many tasks went with it", zListDeleted),
        ...listWriteErrors,
      },
    },
  },
];

/** A route's path as Express matches it under /api: `/:user_id/tasks/:id`. */
export const expressPath = (path: string) =>
  path.replace(/^\/api/, "").replace(/\{(\w+)\}/g, ":$1");

/** `GET /api/:user_id/tasks`: how the route is named in logs and tests. */
export const routeName = (route: RestRoute) =>
  `${route.method.toUpperCase()} /api${expressPath(route.path)}`;
