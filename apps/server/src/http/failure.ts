import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { Request, Response } from "express";
import { requestIdOf, sendError } from "../rest/envelope.ts";

/**
 * Answers a request refused before it reached a handler (rate limit, deadline) in the shape its
 * client understands: tRPC's error shape under /trpc, the REST envelope elsewhere.
 */
export function sendFailure(
  req: Request,
  res: Response,
  failure: { status: number; code: TRPC_ERROR_CODE_KEY; message: string },
): void {
  if (res.headersSent) return;
  if (!req.originalUrl.startsWith("/trpc")) {
    sendError(res, failure.status, { code: failure.code, message: failure.message });
    return;
  }
  res.status(failure.status).json({
    error: {
      message: failure.message,
      code: TRPC_ERROR_CODES_BY_KEY[failure.code],
      data: { code: failure.code, httpStatus: failure.status, requestId: requestIdOf(res) },
    },
  });
}
