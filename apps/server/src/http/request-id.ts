import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const INBOUND_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's X-Request-Id if it is a sane one, else a fresh UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const inbound = req.headers["x-request-id"];
  return typeof inbound === "string" && INBOUND_REQUEST_ID.test(inbound) ? inbound : randomUUID();
}
