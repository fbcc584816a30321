import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Duplex } from "node:stream";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { Logger } from "pino";

const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers too large, a malformed
 * request line, headers too slow) are answered in the same error shape as every other failure,
 * with a request id, instead of Node's empty default answer.
 */
export function answerClientErrors(server: Server, logger?: Logger): void {
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === "HPE_HEADER_OVERFLOW"
        ? 431
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? 408
          : 400;
    const message =
      status === 431
        ? "Request headers too large"
        : status === 408
          ? "Request headers took too long"
          : "Malformed HTTP request";
    const requestId = randomUUID();
    logger?.info({ requestId, status, reason: error.code }, "request refused by the HTTP parser");
    const raw = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 64).toString("latin1");
    const body = JSON.stringify(
      raw && /^[A-Z]+ \/trpc[/?]/.test(raw)
        ? {
            error: {
              message,
              code: TRPC_ERROR_CODES_BY_KEY.BAD_REQUEST,
              data: { code: "BAD_REQUEST", httpStatus: status, requestId },
            },
          }
        : { data: null, error: { code: "BAD_REQUEST", message }, meta: { requestId } },
    );
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  });
}
