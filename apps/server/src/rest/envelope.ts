import type { Response } from "express";
import { requestIdOf } from "../http/answers.ts";

/** Everything every REST answer carries in `meta`. */
export type Meta = { requestId: string; [key: string]: unknown };

/** `{ data, meta }` with the request id, plus any extra meta (list paging). */
export function sendData(res: Response, status: number, data: unknown, meta: object = {}): void {
  // Already answered (the request deadline passed): the late result is dropped.
  if (res.headersSent) return;
  res.status(status).json({ data, meta: { requestId: requestIdOf(res), ...meta } });
}
