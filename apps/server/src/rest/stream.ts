// The REST live stream: Server-Sent Events of the feed's changes (`id:` the cursor, `event:
// change`, `data:` the change), a heartbeat comment, a `retry:` hint, and a final `end` event when
// the token expires or the server shuts down. A client too slow to take what is sent is
// disconnected rather than buffered without bound; it resumes with Last-Event-ID.
import { AppError } from "@todo/api/errors";
import { STREAM_HEARTBEAT_MS } from "@todo/api/trpc";
import type { Response } from "express";

/** How long a browser's EventSource waits before reconnecting. */
export const STREAM_RETRY_MS = 2_000;
/** Unsent bytes past which a stream's client counts as stuck. */
export const STREAM_MAX_BUFFERED_BYTES = 256 * 1024;

/** What task.onChange yields through a server-side caller: tracked(id, data) envelopes. */
type Tracked = readonly [id: string, data: unknown, ...rest: unknown[]];

/** Why a stream ended, from the error its procedure ended with. */
function endReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const app = error instanceof AppError ? error : error.cause;
  if (!(app instanceof AppError)) return undefined;
  if (app.code === "UNAUTHORIZED") return "token_expired";
  if (app.code === "SERVICE_UNAVAILABLE") return "shutdown";
  if (app.code === "GONE") return "gone";
  return undefined;
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
  const write = (text: string) => {
    if (res.destroyed) return;
    res.write(text);
    if (res.writableLength > STREAM_MAX_BUFFERED_BYTES) res.destroy();
  };
  write(`retry: ${STREAM_RETRY_MS}\n\n`);
  const heartbeat = setInterval(() => write(": ping\n\n"), STREAM_HEARTBEAT_MS);
  heartbeat.unref();
  try {
    for await (const event of events) {
      const [id, data] = event as Tracked;
      write(`id: ${id}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`);
    }
  } catch (error) {
    const reason = endReason(error);
    if (reason === undefined && !res.destroyed) throw error;
    if (reason !== undefined) write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    if (!res.destroyed) res.end();
  }
}
