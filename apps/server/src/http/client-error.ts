import { randomUUID } from "node:crypto";
import { type Server, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { failureBody } from "./answers.ts";

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
    // The path, when the request line got that far, says which surface's error shape to use.
    const raw = (error as { rawPacket?: Buffer }).rawPacket?.subarray(0, 64).toString("latin1");
    const path = raw ? (/^[A-Z]+ (\S+)/.exec(raw)?.[1] ?? "") : "";
    const body = JSON.stringify(
      failureBody(path, { status, code: "BAD_REQUEST", message }, requestId),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  });
}
