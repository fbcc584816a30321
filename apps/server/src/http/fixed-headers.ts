import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import type { Request, RequestHandler, Response } from "express";

/**
 * A middleware whose headers are the same for every request (helmet's, with no per-request nonce),
 * run once on a response of our own; each request then gets the headers it set, without the
 * middleware's work (helmet builds the Content-Security-Policy string again on every call).
 */
export function fixedHeaders(middleware: RequestHandler): RequestHandler {
  const socket = new Socket();
  const sample = new ServerResponse(new IncomingMessage(socket));
  // Their names as the middleware spelled them (getHeaders() lower-cases them).
  const spelled = new Map<string, string>();
  const setHeader = sample.setHeader.bind(sample);
  sample.setHeader = (name, value) => {
    spelled.set(name.toLowerCase(), name);
    return setHeader(name, value);
  };
  let called = false;
  middleware(sample.req as Request, sample as unknown as Response, () => {
    called = true;
  });
  socket.destroy();
  if (!called) throw new Error("fixedHeaders: the middleware must call next() at once");
  const headers = Object.entries(sample.getHeaders()).map(([name, value]) => [
    spelled.get(name) ?? name,
    String(value),
  ]);
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name as string, value as string);
    next();
  };
}
