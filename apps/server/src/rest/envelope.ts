import type { Response } from "express";
import { requestIdOf } from "../http/answers.ts";

/** Everything every REST answer carries in `meta`. */
export type Meta = { requestId: string; [key: string]: unknown };

/** `{ data, meta }` with the request id, plus any extra meta (list paging). */
export function sendData(res: Response, status: number, data: unknown, meta: object = {}): void {
  // Already answered (the request deadline passed): the late result is dropped.
  if (res.headersSent) return;
  // Written directly rather than through res.json(), which parses and re-formats its own
  // Content-Type and copies the body into a Buffer on every answer; there is no ETag to compute
  // (the app sets none automatically). Content-Length is set here so that HEAD, whose body Node
  // does not send, still says how long GET's would be.
  const body = JSON.stringify({ data, meta: { requestId: requestIdOf(res), ...meta } });
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}
