// The REST live stream: Server-Sent Events of the feed's changes (`id:` the cursor, `event:
// change`, `data:` the change) after a first `ready` event naming where it starts, a heartbeat
// comment, a `retry:` hint, and a final `end` event when
// the token expires or the server shuts down. A client too slow to take what is sent is
// disconnected rather than buffered without bound; it resumes with Last-Event-ID.
import { streamEndOf } from "@todo/api/live";
import { STREAM_HEARTBEAT_MS } from "@todo/api/trpc";
import type { Response } from "express";
import { clearDeadline } from "../http/deadline.ts";

/** How long a browser's EventSource waits before reconnecting. */
export const STREAM_RETRY_MS = 2_000;
/** Unsent bytes past which a stream's client counts as stuck. */
export const STREAM_MAX_BUFFERED_BYTES = 256 * 1024;

/** What task.onChange yields through a server-side caller: tracked(id, data) envelopes. */
type Tracked = readonly [id: string, data: unknown, ...rest: unknown[]];

/**
 * The open streams' heartbeat: one timer for all of them (a thousand open streams keep little but
 * their sockets), so each hears a comment at most STREAM_HEARTBEAT_MS apart.
 */
const beating = new Set<Response>();
let heartbeat: NodeJS.Timeout | undefined;

function beat(): void {
  for (const res of beating) writeTo(res, ": ping\n\n");
}

/**
 * Writes `events` to `res` as an event stream until they end, the client goes, or it lags (the
 * response closes either way, which aborts the procedure's signal: the events end).
 */
export async function sendEventStream(
  res: Response,
  events: AsyncIterable<unknown>,
): Promise<void> {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("Connection", "keep-alive");
  // nginx and similar proxies would otherwise hold events back to fill a buffer.
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  // Open as long as its client stays: no request deadline.
  clearDeadline.call(res);
  writeTo(res, `retry: ${STREAM_RETRY_MS}\n\n`);
  // Where the stream starts, as its first event (`ready`, with the cursor as its id and data): a
  // client that reconnects before any change resumes from here and loses none.
  const { cursor } = events as { cursor?: unknown };
  if (typeof cursor === "string") {
    writeTo(res, `id: ${cursor}\nevent: ready\ndata: ${JSON.stringify({ cursor })}\n\n`);
  }
  beating.add(res);
  heartbeat ??= setInterval(beat, STREAM_HEARTBEAT_MS).unref();
  const iterator = events[Symbol.asyncIterator]();
  let next: IteratorResult<unknown> | undefined;
  try {
    for (;;) {
      // Let go of the last event before waiting: an idle stream holds none.
      next = undefined;
      next = await iterator.next();
      if (next.done) break;
      writeChange(res, next.value as Tracked);
    }
  } catch (error) {
    const reason = streamEndOf(error);
    if (reason === undefined && !res.destroyed) throw error;
    if (reason !== undefined) writeTo(res, `event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
  } finally {
    beating.delete(res);
    if (beating.size === 0) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
    await iterator.return?.();
    if (!res.destroyed) res.end();
  }
}

function writeChange(res: Response, [id, data]: Tracked): void {
  writeTo(res, `id: ${id}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * A stream holds its response for as long as the client stays, so once it is open the request's
 * state (its caller of the procedures, identity, rate-limit hook) is let go; what its log line,
 * metrics and an error answer read stays.
 */
export function forgetRequestState(res: Response): void {
  const { context: _c, identify: _i, charge: _r, idempotency: _k, ...kept } = res.locals;
  res.locals = kept as Response["locals"];
}

/** Writes to a stream, cutting off a client that has stopped taking what is sent. */
function writeTo(res: Response, text: string): void {
  if (res.destroyed) return;
  res.write(text);
  if (res.writableLength > STREAM_MAX_BUFFERED_BYTES) res.destroy();
}
