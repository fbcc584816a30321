import { MISSING_TOKEN_MESSAGE } from "@todo/api/auth";
import type { AppErrorCode } from "@todo/api/errors";
import type { ValidationIssues } from "@todo/api/trpc";
import type { Response } from "express";

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 5;

/** Everything every REST answer carries in `meta`. */
export type Meta = { requestId: string; [key: string]: unknown };

export type ErrorBody = {
  data: null;
  error: { code: AppErrorCode | string; message: string; issues?: ValidationIssues };
  meta: Meta;
};

export function requestIdOf(res: Response): string {
  return res.locals.requestId;
}

/** `{ data, meta }` with the request id, plus any extra meta (list paging). */
export function sendData(res: Response, status: number, data: unknown, meta: object = {}): void {
  // Already answered (the request deadline passed): the late result is dropped.
  if (res.headersSent) return;
  res.status(status).json({ data, meta: { requestId: requestIdOf(res), ...meta } });
}

export function sendError(res: Response, status: number, error: ErrorBody["error"]): void {
  if (res.headersSent) return;
  if (status === 401) res.setHeader("WWW-Authenticate", wwwAuthenticate(error.message));
  if (status === 503 && !res.hasHeader("Retry-After")) {
    res.setHeader("Retry-After", String(RETRY_AFTER_UNAVAILABLE_SECONDS));
  }
  const body: ErrorBody = { data: null, error, meta: { requestId: requestIdOf(res) } };
  res.status(status).json(body);
}

/** RFC 6750 §3: a challenge, with `invalid_token` when a token was presented and refused. */
export function wwwAuthenticate(message: string): string {
  if (message === MISSING_TOKEN_MESSAGE) return 'Bearer realm="todo"';
  return `Bearer realm="todo", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`;
}
