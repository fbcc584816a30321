// REST compatibility adapter: every route calls the same tRPC procedure a frontend calls, through
// a server-side caller, so each rule (validation, isolation, versions) has one implementation.
import { AppError } from "@todo/api/errors";
import { createCaller } from "@todo/api/router";
import {
  LIST_LIMIT_DEFAULT,
  TASK_DEFAULTS,
  type TaskDto,
  zTaskReplace,
} from "@todo/api/task/schemas";
import { createContextInner, JSON_ONLY_MESSAGE } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import { TRPCError } from "@trpc/server";
import express, { type Request, type RequestHandler, type Response } from "express";
import { requestIdOf, sendError } from "../http/answers.ts";
import { sendData } from "./envelope.ts";

const callerOf = (res: Response) => res.locals.caller;

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

const hasBody = (req: Request) =>
  req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;

// Bodies are only accepted as JSON; anything else with content is 415, never silently ignored.
const requireJson: RequestHandler = (req, _res, next) => {
  if (hasBody(req) && !req.is("application/json")) {
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", JSON_ONLY_MESSAGE);
  }
  next();
};

/** A task's ETag is its version: `If-Match` with it makes a change conditional. */
const etagOf = (task: TaskDto) => `"${task.version}"`;

function sendTask(res: Response, status: number, task: TaskDto) {
  res.setHeader("ETag", etagOf(task));
  sendData(res, status, task);
}

/**
 * The version an `If-Match` header requires, for the procedure to check (412 when stale); none
 * without the header or with `*`. A weak or foreign tag never matches strongly.
 */
const CONDITIONAL_METHODS = new Set(["PUT", "PATCH", "DELETE"]);

function ifMatchOf(req: Request): number | undefined {
  const header = req.get("if-match")?.trim();
  if (header === undefined || header === "*") return undefined;
  const match = /^"([1-9]\d{0,9})"$/.exec(header);
  if (match) return Number(match[1]);
  if (/^W\/"/.test(header) || /^"[^"]*"$/.test(header)) {
    throw new AppError("PRECONDITION_FAILED", "If-Match does not match the task's ETag");
  }
  throw new AppError("BAD_REQUEST", 'If-Match must be one ETag (as in "3") or *');
}

export type RestOptions = { db: Db; bodyLimit: string };

export function restRouter({ db, bodyLimit }: RestOptions): express.Router {
  const api = express.Router();

  // The request's identity (verified once, shared with the rate limit and the procedures): 401
  // without a valid token, then 403 from the token alone, before any database work.
  api.use("/:user_id/tasks", async (req, res, next) => {
    const { userId } = await res.locals.identify();
    if (req.params.user_id !== userId) {
      throw new AppError("FORBIDDEN", "The token's user may not access this user's resources");
    }
    const { identify } = res.locals;
    res.locals.caller = createCaller(
      createContextInner({
        db,
        identify,
        requestId: requestIdOf(res),
        // A precondition only for what changes a task; reads and creates ignore it.
        ifMatch: CONDITIONAL_METHODS.has(req.method) ? ifMatchOf(req) : undefined,
      }),
    );
    next();
  });
  api.use(requireJson, express.json({ limit: bodyLimit, strict: true }));

  api.get("/:user_id/tasks", async (req, res) => {
    const page = await callerOf(res).task.list(untrusted(listInputFromQuery(req.query)));
    sendData(res, 200, page.items, {
      limit: req.query.limit === undefined ? LIST_LIMIT_DEFAULT : Number(req.query.limit),
      count: page.items.length,
      nextCursor: page.nextCursor,
    });
  });

  api.post("/:user_id/tasks", async (req, res) => {
    const task = await callerOf(res).task.create(untrusted(bodyObject(req)));
    res.location(`${req.baseUrl}/${encodeURIComponent(req.params.user_id)}/tasks/${task.id}`);
    sendTask(res, 201, task);
  });

  api.all("/:user_id/tasks", methodNotAllowed("GET, HEAD, POST"));

  api.get("/:user_id/tasks/stats", async (_req, res) => {
    sendData(res, 200, await callerOf(res).task.stats());
  });
  // Before the /:id routes, which would otherwise take "stats" for an id.
  api.all("/:user_id/tasks/stats", methodNotAllowed("GET, HEAD"));

  api.get("/:user_id/tasks/:id", async (req, res) => {
    sendTask(res, 200, await callerOf(res).task.byId({ id: req.params.id }));
  });

  api.put("/:user_id/tasks/:id", async (req, res) => {
    const body = bodyObject(req);
    // A replacement: the title is required and omitted fields go back to their defaults.
    zTaskReplace.parse(body);
    const input = { ...TASK_DEFAULTS, ...body, id: req.params.id };
    sendTask(res, 200, await callerOf(res).task.update(untrusted(input)));
  });

  api.patch("/:user_id/tasks/:id", async (req, res) => {
    const input = { ...bodyObject(req), id: req.params.id };
    sendTask(res, 200, await callerOf(res).task.update(untrusted(input)));
  });

  api.patch("/:user_id/tasks/:id/complete", async (req, res) => {
    sendTask(res, 200, await callerOf(res).task.toggle({ id: req.params.id }));
  });

  api.delete("/:user_id/tasks/:id", async (req, res) => {
    sendData(res, 200, await callerOf(res).task.delete({ id: req.params.id }));
  });

  api.all("/:user_id/tasks/:id", methodNotAllowed("GET, HEAD, PUT, PATCH, DELETE"));
  api.all("/:user_id/tasks/:id/complete", methodNotAllowed("PATCH"));

  return api;
}

/** A known route asked with a method it does not have: 405 with the methods it has. */
function methodNotAllowed(allow: string): RequestHandler {
  return (_req, res) => {
    res.setHeader("Allow", allow);
    sendError(res, 405, {
      code: "METHOD_NOT_SUPPORTED",
      message: `Method not allowed here; use ${allow.replace(/, (?=[^,]*$)/, " or ")}`,
    });
  };
}
