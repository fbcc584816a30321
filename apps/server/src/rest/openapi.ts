// The REST adapter's OpenAPI 3.1 document, built from the same zod schemas the procedures validate
// with: there is no hand-written copy of any shape to drift.
import {
  zTask,
  zTaskCreate,
  zTaskListQuery,
  zTaskPatch,
  zTaskReplace,
  zTaskStats,
} from "@todo/api/task/schemas";
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject } from "zod-openapi";

const zMeta = z.object({ requestId: z.string() }).meta({ id: "Meta" });
const zListMeta = zMeta
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
const ifMatch = z
  .string()
  .optional()
  .meta({ description: 'Apply only if the task is still at this ETag (as in "3"); else 412' });

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

const operations = {
  list: {
    operationId: "listTasks",
    summary: "List the caller's tasks (filtered, sorted, cursor-paginated)",
    requestParams: { path: userPath, query: zTaskListQuery },
    responses: {
      "200": { description: "One page", ...json(envelope(z.array(zTask), zListMeta)) },
      ...commonErrors,
    },
  },
  create: {
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
  stats: {
    operationId: "getTaskStats",
    summary: "Counts of the caller's tasks",
    requestParams: { path: userPath },
    responses: { "200": { description: "Counts", ...json(envelope(zTaskStats)) }, ...commonErrors },
  },
  get: {
    operationId: "getTask",
    summary: "One task",
    requestParams: { path: taskPath },
    responses: { "200": taskResponse("The task"), ...taskErrors },
  },
  replace: {
    operationId: "replaceTask",
    summary: "Replace a task's editable fields (omitted ones back to their defaults)",
    requestParams: { path: taskPath, header: z.object({ "If-Match": ifMatch }) },
    requestBody: json(zTaskReplace),
    responses: { "200": taskResponse("Replaced"), ...writeErrors },
  },
  patch: {
    operationId: "updateTask",
    summary: "Change some of a task's fields",
    requestParams: { path: taskPath, header: z.object({ "If-Match": ifMatch }) },
    requestBody: json(zTaskPatch),
    responses: { "200": taskResponse("Updated"), ...writeErrors },
  },
  toggle: {
    operationId: "toggleTask",
    summary: "Toggle a task's completion",
    requestParams: { path: taskPath, header: z.object({ "If-Match": ifMatch }) },
    responses: { "200": taskResponse("Toggled"), ...writeErrors },
  },
  delete: {
    operationId: "deleteTask",
    summary: "Delete a task",
    requestParams: { path: taskPath, header: z.object({ "If-Match": ifMatch }) },
    responses: {
      "200": { description: "Deleted", ...json(envelope(z.object({ id: z.string() }))) },
      ...writeErrors,
    },
  },
} satisfies Record<string, ZodOpenApiOperationObject>;

/** The OpenAPI 3.1 document of the REST adapter. */
export function openApiDocument() {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Todo REST API",
      version: "1.0.0",
      description:
        "REST compatibility adapter of the Todo API. Every route needs `Authorization: Bearer <JWT>`; `user_id` must be the token's subject. Answers are `{ data, meta }`; errors `{ data: null, error, meta }`.",
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    paths: {
      "/api/{user_id}/tasks": { get: operations.list, post: operations.create },
      "/api/{user_id}/tasks/stats": { get: operations.stats },
      "/api/{user_id}/tasks/{id}": {
        get: operations.get,
        put: operations.replace,
        patch: operations.patch,
        delete: operations.delete,
      },
      "/api/{user_id}/tasks/{id}/complete": { patch: operations.toggle },
    },
  });
}
