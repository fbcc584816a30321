import { AppError, codeOfStatus, httpStatusOf } from "@todo/api/errors";
import {
  BODY_TOO_LARGE_MESSAGE,
  errorDetails,
  INTERNAL_MESSAGE,
  INVALID_INPUT_MESSAGE,
  MALFORMED_JSON_MESSAGE,
  validationIssues,
} from "@todo/api/trpc";
import { TRPCError } from "@trpc/server";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { ZodError, z } from "zod";
import { requestIdOf, sendError } from "./answers.ts";

// Express and body-parser mark the client's mistakes with a 4xx `status` (and body-parser with a
// `type`): the status stands (its code from the error table), their internal messages do not.
const MESSAGE_BY_TYPE: Record<string, string> = {
  "entity.parse.failed": MALFORMED_JSON_MESSAGE,
  "entity.too.large": BODY_TOO_LARGE_MESSAGE,
  "encoding.unsupported": "Unsupported content encoding",
  "charset.unsupported": "Unsupported charset: send UTF-8 JSON",
  "request.aborted": "Request aborted",
  "request.size.invalid": "Request size mismatch",
};

/** The REST error middleware: one envelope for every failure, nothing internal in it. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const status = typeof err?.status === "number" ? err.status : undefined;
    if (status !== undefined && status >= 400 && status < 500 && !(err instanceof TRPCError)) {
      const fallback = status === 404 ? "Route not found" : "Bad request";
      // body-parser's strict mode refuses valid JSON that is not an object or array (`null`, `1`).
      const notAnObject =
        err.type === "entity.parse.failed" &&
        typeof err.body === "string" &&
        /^\s*(null|true|false|-?\d|")/.test(err.body);
      sendError(res, status, {
        code: codeOfStatus(status) ?? "BAD_REQUEST",
        message: notAnObject
          ? "Body must be a JSON object"
          : (typeof err.type === "string" && MESSAGE_BY_TYPE[err.type]) || fallback,
      });
      return;
    }
    if (err instanceof ZodError) {
      sendError(res, 400, {
        code: "BAD_REQUEST",
        message: INVALID_INPUT_MESSAGE,
        issues: z.flattenError(err),
      });
      return;
    }
    // A domain error as raised, or as a procedure called through the caller carries it; the one
    // table (ERROR_HTTP) gives its status, sendError its headers.
    const known = err instanceof AppError || err instanceof TRPCError ? err : undefined;
    if (known && known.code !== "INTERNAL_SERVER_ERROR") {
      const issues = known instanceof TRPCError ? validationIssues(known) : undefined;
      // The domain's own code (GONE travels through tRPC as another) and what it names.
      const app = known instanceof AppError ? known : known.cause;
      const code = app instanceof AppError ? app.code : known.code;
      if (app instanceof AppError && app.retryAfterSeconds !== undefined && !res.headersSent) {
        res.setHeader("Retry-After", String(app.retryAfterSeconds));
      }
      sendError(res, httpStatusOf(code), {
        code,
        message: issues ? INVALID_INPUT_MESSAGE : known.message,
        ...(issues ? { issues } : {}),
        ...(known instanceof TRPCError ? errorDetails(known) : known.details),
      });
      return;
    }
    logger.error({ requestId: requestIdOf(res), err: known?.cause ?? err }, "unhandled error");
    if (res.headersSent) return;
    sendError(res, 500, { code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE });
  };
}

export const notFound: RequestHandler = (_req, res) => {
  sendError(res, 404, { code: "NOT_FOUND", message: "Route not found" });
};
