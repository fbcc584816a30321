import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { requestIdFor } from "./request-id.ts";

/**
 * One log line per request, written when the response has been sent: request id, user id,
 * method, path (never the query string, never a header: no token or cookie reaches the logs),
 * status and duration. The request id is also set as `res.locals.requestId` and the X-Request-Id
 * response header. The line is built from scalars on one logger made at start: no child logger
 * and no serializers per request (pino-http's per-request child logger was a fifth of the server's busy
 * time under load; PERFORMANCE.md).
 */
export function requestLogging(logger: Logger): RequestHandler {
  // The line's keys are fixed and none of them holds a credential, so the logger's redaction (which
  // looks for its paths, wildcards included, in every line it writes) is left out of this one.
  const access = logger.child({}, { redact: [] });
  // Listeners made once, not per request: a request holds its own state only (res.locals), so a
  // long-lived one (a live stream) keeps little beyond its socket.
  function log(res: Response, error?: Error) {
    if (res.locals.logged) return;
    res.locals.logged = true;
    const { requestId, startedAt } = res.locals;
    writeLine(access, res.req, res, requestId, Math.round(performance.now() - startedAt), error);
  }
  function onFinish(this: Response) {
    log(this);
  }
  // A client that goes away before the answer is complete: logged with the status so far. An
  // event stream ends that way as a matter of course (its client closes it), so it is no error.
  function onClose(this: Response) {
    const complete = this.writableFinished || isEventStream(this);
    log(this, complete ? undefined : new Error("Connection closed"));
  }
  return (req, res, next) => {
    res.locals.startedAt = performance.now();
    const requestId = requestIdFor(req);
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    // `on`, not `once`: a response finishes and closes once, and once() would wrap each listener.
    res.on("finish", onFinish);
    res.on("close", onClose);
    next();
  };
}

function isEventStream(res: Response): boolean {
  const type = res.getHeader("content-type");
  return res.headersSent && typeof type === "string" && type.startsWith("text/event-stream");
}

function writeLine(
  logger: Logger,
  req: Request,
  res: Response,
  requestId: string,
  durationMs: number,
  aborted?: Error,
) {
  const status = res.statusCode;
  const path = (req.originalUrl ?? req.url).split("?", 1)[0];
  const line = {
    requestId,
    userId: res.locals.userId,
    req: { method: req.method, path },
    res: { status },
    durationMs,
    ...(aborted ? { err: { message: aborted.message } } : {}),
  };
  const message = `${req.method} ${path} ${status}`;
  if (aborted || status >= 500) logger.error(line, message);
  else if (status >= 400) logger.warn(line, message);
  else logger.info(line, message);
}
