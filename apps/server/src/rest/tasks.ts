// REST compatibility adapter: every route calls the same tRPC procedure a frontend calls, through
// a server-side caller, so each rule (validation, isolation, versions) has one implementation.
import { authenticate, type TokenVerifier } from "@todo/api/auth";
import { AppError } from "@todo/api/errors";
import { createCaller } from "@todo/api/router";
import { LIST_LIMIT_DEFAULT, TASK_DEFAULTS, zTaskReplace } from "@todo/api/task/schemas";
import { createContextInner } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import express, { type Request, type RequestHandler, type Response } from "express";
import { requestIdOf, sendData } from "./envelope.ts";

type Caller = ReturnType<typeof createCaller>;

const callerOf = (res: Response) => res.locals.caller as Caller;

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
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
  }
  next();
};

export type RestOptions = { db: Db; verifier: TokenVerifier; bodyLimit: string };

export function restRouter({ db, verifier, bodyLimit }: RestOptions): express.Router {
  const api = express.Router();

  // Authentication, then authorization from the token alone, before any database work.
  api.use("/:user_id/tasks", async (req, res, next) => {
    const { userId } = await authenticate(verifier, req.headers.authorization);
    if (req.params.user_id !== userId) {
      throw new AppError("FORBIDDEN", "The token's user may not access this user's resources");
    }
    res.locals.caller = createCaller(
      createContextInner({ db, user: { id: userId }, requestId: requestIdOf(res) }),
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
    sendData(res, 201, task);
  });

  api.get("/:user_id/tasks/stats", async (_req, res) => {
    sendData(res, 200, await callerOf(res).task.stats());
  });

  api.get("/:user_id/tasks/:id", async (req, res) => {
    sendData(res, 200, await callerOf(res).task.byId({ id: req.params.id }));
  });

  api.put("/:user_id/tasks/:id", async (req, res) => {
    const body = bodyObject(req);
    // A replacement: the title is required and omitted fields go back to their defaults.
    zTaskReplace.parse(body);
    const input = { ...TASK_DEFAULTS, ...body, id: req.params.id };
    sendData(res, 200, await callerOf(res).task.update(untrusted(input)));
  });

  api.patch("/:user_id/tasks/:id", async (req, res) => {
    const input = { ...bodyObject(req), id: req.params.id };
    sendData(res, 200, await callerOf(res).task.update(untrusted(input)));
  });

  api.patch("/:user_id/tasks/:id/complete", async (req, res) => {
    sendData(res, 200, await callerOf(res).task.toggle({ id: req.params.id }));
  });

  api.delete("/:user_id/tasks/:id", async (req, res) => {
    sendData(res, 200, await callerOf(res).task.delete({ id: req.params.id }));
  });

  return api;
}
