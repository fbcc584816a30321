import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { requestIdFor } from "./request-id.ts";

/**
 * One log line per request, written when the response has been sent: request id, user id,
 * method, path (never the query string, never a header: no token or cookie reaches the logs),
 * status and duration. The request id is also set as `res.locals.requestId` and the X-Request-Id
 * response header. The line is built from scalars on the shared logger: no child logger and no
 * serializers per request (pino-http's per-request child logger was a fifth of the server's busy
 * time under load; PERFORMANCE.md).
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    const requestId = requestIdFor(req);
    res.locals.requestId = requestId;
    res.setHeader("X-Request-Id", requestId);
    let logged = false;
    const log = (error?: Error) => {
      if (logged) return;
      logged = true;
      writeLine(logger, req, res, requestId, Math.round(performance.now() - start), error);
    };
    res.once("finish", () => log());
    // A client that goes away before the answer is complete: logged with the status so far.
    res.once("close", () => log(res.writableFinished ? undefined : new Error("Connection closed")));
    next();
  };
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
