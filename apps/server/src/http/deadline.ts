import type { Request, RequestHandler, Response } from "express";
import { RETRY_AFTER_UNAVAILABLE_SECONDS, sendFailure } from "./answers.ts";

/**
 * Every request is answered within `ms`: past it the client gets a 503 with Retry-After, and
 * whatever the handler writes later is dropped. Database statements are bounded separately
 * (statement_timeout), so the work behind a timed-out request ends too.
 */
export function requestDeadline(ms: number): RequestHandler {
  return (req, res, next) => {
    res.locals.deadline = setTimeout(answerLate, ms, req, res);
    res.on("close", clearDeadline);
    next();
  };
}

/** Lifts a request's deadline: it has ended, or it is a live stream (open as long as its client). */
export function clearDeadline(this: Response): void {
  clearTimeout(this.locals.deadline);
  this.locals.deadline = undefined;
}

function answerLate(req: Request, res: Response): void {
  if (res.headersSent) return;
  res.setHeader("Retry-After", String(RETRY_AFTER_UNAVAILABLE_SECONDS));
  sendFailure(req, res, {
    status: 503,
    code: "SERVICE_UNAVAILABLE",
    message: "The request took too long; retry shortly",
  });
}
