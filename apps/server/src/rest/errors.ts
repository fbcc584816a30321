import { AppError } from "@todo/api/errors";
import {
  INTERNAL_MESSAGE,
  INVALID_INPUT_MESSAGE,
  toTRPCError,
  validationIssues,
} from "@todo/api/trpc";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { ErrorRequestHandler, RequestHandler } from "express";
import type { Logger } from "pino";
import { ZodError, z } from "zod";
import { requestIdOf, sendError } from "./envelope.ts";

/** body-parser's errors carry a `type`; these are the client's mistakes, not ours. */
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  "entity.parse.failed": { status: 400, code: "BAD_REQUEST", message: "Malformed JSON body" },
  "entity.too.large": { status: 413, code: "PAYLOAD_TOO_LARGE", message: "Request body too large" },
  "encoding.unsupported": {
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: "Unsupported content encoding",
  },
  "charset.unsupported": {
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: "Unsupported charset: send UTF-8 JSON",
  },
  "request.aborted": { status: 400, code: "BAD_REQUEST", message: "Request aborted" },
  "request.size.invalid": { status: 400, code: "BAD_REQUEST", message: "Request size mismatch" },
};

const CODE_BY_STATUS: Record<number, string> = {
  400: "BAD_REQUEST",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** The REST error middleware: one envelope for every failure, nothing internal in it. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const bodyError = typeof err?.type === "string" ? BODY_ERRORS[err.type] : undefined;
    if (bodyError) {
      sendError(res, bodyError.status, { code: bodyError.code, message: bodyError.message });
      return;
    }
    // Express's own 4xx errors (a path parameter that is not valid percent-encoding, …): the
    // status stands, the internal message does not.
    const status = typeof err?.status === "number" ? err.status : undefined;
    if (status !== undefined && status >= 400 && status < 500 && !(err instanceof TRPCError)) {
      sendError(res, status, {
        code: CODE_BY_STATUS[status] ?? "BAD_REQUEST",
        message: status === 404 ? "Route not found" : "Bad request",
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
    const trpcError =
      err instanceof TRPCError ? err : err instanceof AppError ? toTRPCError(err) : undefined;
    if (trpcError && trpcError.code !== "INTERNAL_SERVER_ERROR") {
      const issues = validationIssues(trpcError);
      sendError(res, getHTTPStatusCodeFromError(trpcError), {
        code: trpcError.code,
        message: issues ? INVALID_INPUT_MESSAGE : trpcError.message,
        ...(issues ? { issues } : {}),
      });
      return;
    }
    logger.error({ requestId: requestIdOf(res), err: trpcError?.cause ?? err }, "unhandled error");
    if (res.headersSent) return;
    sendError(res, 500, { code: "INTERNAL_SERVER_ERROR", message: INTERNAL_MESSAGE });
  };
}

export const notFound: RequestHandler = (_req, res) => {
  sendError(res, 404, { code: "NOT_FOUND", message: "Route not found" });
};
