// REST compatibility adapter: every route of the table (routes.ts) calls the same tRPC procedure a
// frontend calls, through a server-side caller, so each rule (validation, isolation, versions)
// has one implementation. This file only maps HTTP to it: identity and 403, JSON bodies, If-Match,
// answers and 405s.
import { AppError } from "@todo/api/errors";
import type { LiveHub } from "@todo/api/live";
import { createCaller } from "@todo/api/router";
import {
  LIST_LIMIT_DEFAULT,
  type TaskBatchOutput,
  type TaskChanges,
  type TaskDto,
  type TaskPage,
} from "@todo/api/task/schemas";
import { createContextInner, JSON_ONLY_MESSAGE } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import express, { type Request, type RequestHandler, type Response } from "express";
import { requestIdOf, sendError } from "../http/answers.ts";
import { sendData } from "./envelope.ts";
import { expressPath, REST_ROUTES, type RestRoute } from "./routes.ts";
import { forgetRequestState, sendEventStream } from "./stream.ts";

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

const CONDITIONAL_METHODS = new Set(["PUT", "PATCH", "DELETE"]);
/** Whether a request changes one task or list, so that `If-Match` applies (a move is a POST). */
const isConditional = (req: Request) =>
  CONDITIONAL_METHODS.has(req.method) || (req.method === "POST" && /\/move\/?$/.test(req.path));
/** The methods whose requests may change something, so an Idempotency-Key applies. */
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The version an `If-Match` header requires, for the procedure to check (412 when stale); none
 * without the header or with `*`. A weak or foreign tag never matches strongly.
 */
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

/** Answers a route's result as the table says. */
function answer(route: RestRoute, req: Request, res: Response, result: unknown) {
  switch (route.answer) {
    case "page": {
      const page = result as TaskPage;
      // (Express parses the query string again on every read of req.query: read once.)
      const { limit } = req.query;
      sendData(res, route.success, page.items, {
        limit: limit === undefined ? LIST_LIMIT_DEFAULT : Number(limit),
        count: page.items.length,
        nextCursor: page.nextCursor,
      });
      return;
    }
    case "created": {
      // A task or a list: its own URL under the collection it was posted to.
      const task = result as TaskDto;
      const userId = encodeURIComponent(req.params.user_id as string);
      const collection = expressPath(route.path).replace(":user_id", userId);
      res.location(`${req.baseUrl}${collection}/${task.id}`);
      res.setHeader("ETag", etagOf(task));
      sendData(res, route.success, task);
      return;
    }
    case "changes": {
      const { changes, nextCursor, hasMore } = result as TaskChanges;
      sendData(res, route.success, changes, { nextCursor, hasMore });
      return;
    }
    case "results":
      sendData(res, route.success, (result as TaskBatchOutput).results);
      return;
    case "task":
      res.setHeader("ETag", etagOf(result as TaskDto));
      sendData(res, route.success, result);
      return;
    case "data":
    case "stream":
      sendData(res, route.success, result);
  }
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

/**
 * A live stream ends when its client goes: its signal aborts when the response closes, whatever
 * path spelling or method reached the route. Other calls need no signal, and are spared one.
 */
function streamSignal(route: RestRoute, res: Response): AbortSignal | undefined {
  if (route.answer !== "stream") return undefined;
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  return gone.signal;
}

export type RestOptions = { db: Db; bodyLimit: string; live?: LiveHub };

export function restRouter({ db, bodyLimit, live }: RestOptions): express.Router {
  const api = express.Router();

  // The request's identity (verified once, shared with the rate limit and the procedures): 401
  // without a valid token, then 403 from the token alone, before any database work.
  api.use(["/:user_id/tasks", "/:user_id/lists", "/:user_id/labels"], async (req, res, next) => {
    const { userId } = await res.locals.identify();
    if (req.params.user_id !== userId) {
      throw new AppError("FORBIDDEN", "The token's user may not access this user's resources");
    }
    const { identify, charge } = res.locals;
    const context = createContextInner({
      db,
      identify,
      requestId: requestIdOf(res),
      // A precondition only for what changes a task; reads and creates ignore it.
      ifMatch: isConditional(req) ? ifMatchOf(req) : undefined,
      idempotencyKey: UNSAFE_METHODS.has(req.method) ? req.get("idempotency-key") : undefined,
      charge,
      live,
    });
    res.locals.idempotency = context.idempotency;
    res.locals.context = context;
    next();
  });
  api.use(requireJson, express.json({ limit: bodyLimit, strict: true }));

  // Path by path, in the table's order: its routes, then a 405 for any other method, so that a
  // literal path (…/stats) is settled before a parameter path (…/:id) could take it.
  const paths = [...new Set(REST_ROUTES.map((r) => r.path))];
  for (const path of paths) {
    const routes = REST_ROUTES.filter((r) => r.path === path);
    for (const route of routes) {
      api[route.method](expressPath(route.path), async (req, res) => {
        if (route.answer === "stream" && req.method === "HEAD") {
          // A stream's head for an authorised caller, without opening one (it could send no body):
          // the cursor and the stream limits are checked only when a GET opens it.
          res.status(200).type("text/event-stream");
          res.setHeader("Cache-Control", "no-cache, no-transform");
          res.end();
          return;
        }
        const caller = createCaller(res.locals.context, { signal: streamSignal(route, res) });
        let result: unknown;
        try {
          result = await route.call(caller, req);
        } finally {
          // A kept answer given again, success or error, says so.
          if (res.locals.idempotency.replayed) res.setHeader("Idempotent-Replayed", "true");
        }
        if (route.answer === "stream") {
          forgetRequestState(res);
          await sendEventStream(res, result as AsyncIterable<unknown>);
          return;
        }
        answer(route, req, res, result);
      });
    }
    const methods = routes.map((r) => r.method.toUpperCase());
    const allow = methods.includes("GET") ? ["GET", "HEAD", ...methods] : methods;
    api.all(expressPath(path), methodNotAllowed([...new Set(allow)].join(", ")));
  }

  return api;
}
