// How every failure is answered, whatever the surface: the request id, the error envelope (and
// tRPC's error shape under /trpc), WWW-Authenticate on 401 and Retry-After on 503.
import { MISSING_TOKEN_MESSAGE } from "@todo/api/auth";
import { type AppErrorCode, ERROR_HTTP } from "@todo/api/errors";
import type { ValidationIssues } from "@todo/api/trpc";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { Request, Response } from "express";
import "./locals.ts";

export { RETRY_AFTER_UNAVAILABLE_SECONDS } from "@todo/api/errors";

export type ErrorBody = {
  data: null;
  error: {
    code: AppErrorCode | string;
    message: string;
    issues?: ValidationIssues;
    /** The operation of an atomic batch that failed (task.batch). */
    index?: number;
  };
  meta: { requestId: string };
};

/** What the error table says goes with a code's answer: a 401 challenge, a Retry-After. */
export function httpRulesOf(
  code: string,
): { challenge?: true; retryAfterSeconds?: number } | undefined {
  return (ERROR_HTTP as Record<string, { challenge?: true; retryAfterSeconds?: number }>)[code];
}

export function requestIdOf(res: Response): string {
  return res.locals.requestId;
}

/** The error envelope: `{ data: null, error: { code, message, issues? }, meta: { requestId } }`. */
export function sendError(res: Response, status: number, error: ErrorBody["error"]): void {
  if (res.headersSent) return;
  const rules = httpRulesOf(error.code);
  if (rules?.challenge) res.setHeader("WWW-Authenticate", wwwAuthenticate(error.message));
  if (rules?.retryAfterSeconds !== undefined && !res.hasHeader("Retry-After")) {
    res.setHeader("Retry-After", String(rules.retryAfterSeconds));
  }
  const body: ErrorBody = { data: null, error, meta: { requestId: requestIdOf(res) } };
  res.status(status).json(body);
}

/** RFC 6750 §3: a challenge, with `invalid_token` when a token was presented and refused. */
export function wwwAuthenticate(message: string): string {
  if (message === MISSING_TOKEN_MESSAGE) return 'Bearer realm="todo"';
  return `Bearer realm="todo", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`;
}

/** Whether a path is the tRPC surface's (mounted at /trpc), whose clients read tRPC's error shape. */
export const isTrpcPath = (path: string) => /^\/trpc(?:[/?]|$)/.test(path);

export type Failure = { status: number; code: TRPC_ERROR_CODE_KEY; message: string };

/**
 * The body of a failure answered outside both surfaces' own handlers, in the shape the client of
 * `path` understands: tRPC's error shape under /trpc, the REST envelope elsewhere.
 */
export function failureBody(path: string, { status, code, message }: Failure, requestId: string) {
  if (isTrpcPath(path)) {
    return {
      error: {
        message,
        code: TRPC_ERROR_CODES_BY_KEY[code],
        data: { code, httpStatus: status, requestId },
      },
    };
  }
  return { data: null, error: { code, message }, meta: { requestId } } satisfies ErrorBody;
}

/** Answers a request refused before it reached a handler (rate limit, deadline). */
export function sendFailure(req: Request, res: Response, failure: Failure): void {
  if (res.headersSent) return;
  if (!isTrpcPath(req.originalUrl)) {
    // The envelope with the error table's headers (Retry-After on 503).
    sendError(res, failure.status, { code: failure.code, message: failure.message });
    return;
  }
  res.status(failure.status).json(failureBody(req.originalUrl, failure, requestIdOf(res)));
}
