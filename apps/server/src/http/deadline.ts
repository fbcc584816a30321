import type { RequestHandler } from "express";
import { RETRY_AFTER_UNAVAILABLE_SECONDS, sendFailure } from "./answers.ts";

/**
 * Every request is answered within `ms`: past it the client gets a 503 with Retry-After, and
 * whatever the handler writes later is dropped. Database statements are bounded separately
 * (statement_timeout), so the work behind a timed-out request ends too.
 */
export function requestDeadline(ms: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader("Retry-After", String(RETRY_AFTER_UNAVAILABLE_SECONDS));
      sendFailure(req, res, {
        status: 503,
        code: "SERVICE_UNAVAILABLE",
        message: "The request took too long; retry shortly",
      });
    }, ms);
    res.on("close", () => clearTimeout(timer));
    next();
  };
}
