// The REST adapter's one route table: each route names its procedure, how the request maps to the
// procedure's input, how the result is answered, and its OpenAPI operation. The Express routes
// (rest/tasks.ts), the 405 Allow lists, the OpenAPI document (rest/openapi.ts) and the test
// suite's list of endpoints are all read from it, so they cannot drift.
import { AppError } from "@todo/api/errors";
import {
  zTask,
  zTaskCreate,
  zTaskListQuery,
  zTaskPatch,
  zTaskReplace,
  zTaskStats,
} from "@todo/api/task/schemas";
import type { Request } from "express";
import { z } from "zod";
import type { ZodOpenApiOperationObject } from "zod-openapi";
import "../http/locals.ts";

type Caller = Express.Locals["caller"];

export type RestRoute = {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** As in the OpenAPI document: `/api/{user_id}/tasks/{id}`. */
  path: string;
  /** The tRPC procedure it calls, for readers (README, docs). */
  procedure: string;
  /** Calls the procedure with the input mapped from the path, query string and body. */
  call: (caller: Caller, req: Request) => Promise<unknown>;
  /** How the result is answered: a task (ETag; Location when created), a page, or plain data. */
  answer: "task" | "created" | "page" | "data";
  success: 200 | 201;
  operation: ZodOpenApiOperationObject;
};

/** Client input typed as the procedure's input: the procedure validates it, not this cast. */
const untrusted = <T>(value: unknown): T => value as T;

/** Query strings arrive as strings; repeated keys (arrays) are refused, numbers are numbers. */
function listInputFromQuery(query: Request["query"]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== "string") {
      throw new AppError("BAD_REQUEST", `Query parameter "${key}" must be given once`);
    }
    input[key] = key === "limit" ? Number(value) : value;
  }
  return input;
}

/** A JSON object body; the task id belongs to the path and cannot be set through it. */
function bodyObject(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new AppError("BAD_REQUEST", "Body must be a JSON object");
  }
  if (Object.hasOwn(body, "id")) throw new AppError("BAD_REQUEST", '"id" cannot be set');
  return body as Record<string, unknown>;
}

const taskId = (req: Request) => req.params.id as string;

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
    }),
    meta: zMeta,
  })
  .meta({ id: "Error" });
const envelope = <T extends z.ZodType>(data: T, meta: z.ZodType = zMeta) =>
  z.object({ data, meta });
const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });
const errorResponse = (description: string) => ({ description, ...json(zError) });
const etag = z.string().meta({ description: "The task's version, for If-Match", example: '"3"' });
const ifMatch = z.object({
  "If-Match": z
    .string()
    .optional()
    .meta({ description: 'Apply only if the task is still at this ETag (as in "3"); else 412' }),
});

// Every route answers these; each operation adds its own.
const commonErrors = {
  "400": errorResponse("Invalid input, with field issues"),
  "401": errorResponse("Missing or invalid bearer token"),
  "403": errorResponse("The path's user id is not the token's subject"),
  "429": errorResponse("Rate limited; see Retry-After"),
  "500": errorResponse("A bug: generic message, details in the server log"),
  "503": errorResponse("Database unavailable or request deadline passed; see Retry-After"),
};
const taskErrors = { ...commonErrors, "404": errorResponse("No such task for this user") };
const writeErrors = {
  ...taskErrors,
  "409": errorResponse("Stale `version` in the body"),
  "412": errorResponse("Stale If-Match"),
  "413": errorResponse("Body over 256 KiB"),
  "415": errorResponse("Body is not application/json"),
};
const userPath = z.object({ user_id: z.string().meta({ description: "The token's subject" }) });
const taskPath = userPath.extend({ id: z.uuid() });
const taskResponse = (description: string) => ({
  description,
  headers: z.object({ ETag: etag }),
  ...json(envelope(zTask)),
});

/** In registration order: a path's literal routes (…/stats) before its parameter routes (…/:id). */
export const REST_ROUTES: RestRoute[] = [
  {
    method: "get",
    path: "/api/{user_id}/tasks",
    procedure: "task.list",
    call: (caller, req) => caller.task.list(untrusted(listInputFromQuery(req.query))),
    answer: "page",
    success: 200,
    operation: {
      operationId: "listTasks",
      summary: "List the caller's tasks (filtered, sorted, cursor-paginated)",
      requestParams: { path: userPath, query: zTaskListQuery },
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
      summary: "Create a task",
      requestParams: { path: userPath },
      requestBody: json(zTaskCreate),
      responses: {
        "201": {
          ...taskResponse("Created"),
          headers: z.object({ ETag: etag, Location: z.string() }),
        },
        ...commonErrors,
        "413": writeErrors["413"],
        "415": writeErrors["415"],
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
    call: (caller, req) => caller.task.replace(untrusted({ ...bodyObject(req), id: taskId(req) })),
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
    call: (caller, req) => caller.task.update(untrusted({ ...bodyObject(req), id: taskId(req) })),
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
    call: (caller, req) => caller.task.delete({ id: taskId(req) }),
    answer: "data",
    success: 200,
    operation: {
      operationId: "deleteTask",
      summary: "Delete a task",
      requestParams: { path: taskPath, header: ifMatch },
      responses: {
        "200": { description: "Deleted", ...json(envelope(z.object({ id: z.string() }))) },
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
];

/** A route's path as Express matches it under /api: `/:user_id/tasks/:id`. */
export const expressPath = (path: string) =>
  path.replace(/^\/api/, "").replace(/\{(\w+)\}/g, ":$1");

/** `GET /api/:user_id/tasks`: how the route is named in logs and tests. */
export const routeName = (route: RestRoute) =>
  `${route.method.toUpperCase()} /api${expressPath(route.path)}`;
