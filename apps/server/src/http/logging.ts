import type { IncomingMessage, ServerResponse } from "node:http";
import type { Response } from "express";
import type { Logger } from "pino";
import { pinoHttp } from "pino-http";
import { requestIdFor } from "./request-id.ts";

/**
 * One log line per request: request id, user id, route, status and duration. The request id is
 * also set as `res.locals.requestId` and the X-Request-Id response header. Only the method and
 * the path are logged of a request: no headers (tokens, cookies) and no query string.
 */
export function requestLogging(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req, res) {
      const id = requestIdFor(req);
      (res as Response).locals ??= {};
      (res as Response).locals.requestId = id;
      res.setHeader("X-Request-Id", id);
      return id;
    },
    customAttributeKeys: { reqId: "requestId", responseTime: "durationMs" },
    serializers: {
      req: (req: IncomingMessage & { method?: string; url?: string }) => ({
        method: req.method,
        path: req.url?.split("?")[0],
      }),
      res: (res: ServerResponse) => ({ status: res.statusCode }),
    },
    customProps: (_req, res) => ({
      userId: (res as Response).locals?.auth?.userId,
    }),
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
    customSuccessMessage: (req, res) => `${req.method} ${req.url?.split("?")[0]} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${req.url?.split("?")[0]} ${res.statusCode}`,
    quietReqLogger: true,
  });
}
