// Live updates. Each server instance hears, on one connection, which users' tasks changed (LISTEN
// task_changes; see the server's listener) and wakes those users' streams here; each stream then
// reads the change feed from its own cursor. So a stream and the feed cannot disagree, and a lost
// notification loses nothing but time: the next wake, or the catch-up after the listener
// reconnects, reads from the cursor.
import { AppError, type AppErrorCode } from "../errors.ts";
import type { Scope } from "../sql.ts";
import { encodeFeedCursor, FEED_START, type FeedCursor } from "../task/cursor.ts";
import type { TaskChange } from "../task/schemas.ts";
import { checkCursor, type FeedRead, readChanges } from "../task/task.ts";

/** A notification: whose tasks changed, and when the writing transaction began (ms). */
export type Wake = { userId: string; startedAt?: number };

export type LiveLimits = { perUser: number; perInstance: number };

/** When a stream refused for the limits may try again. */
export const STREAM_LIMIT_RETRY_SECONDS = 10;

/** What a stream hears: a wake for its user, or the end of the server. */
type Listener = { wake(wake?: Wake): void; shutdown(): void };

/** The streams open on this instance, by user, and who to wake. */
export class LiveHub {
  readonly #streams = new Map<string, Set<Listener>>();
  #open = 0;
  #closing = false;
  /** Called with how long a wake took from the writer's transaction to a stream's event. */
  onFanOut: ((ms: number) => void) | undefined;

  constructor(readonly limits: LiveLimits) {}

  get open(): number {
    return this.#open;
  }

  /**
   * Refuses (SERVICE_UNAVAILABLE) while the server shuts down: no new stream is taken here, nor a
   * ticket for one; the client goes to another instance.
   */
  assertTaking(): void {
    if (this.#closing) {
      throw new AppError("SERVICE_UNAVAILABLE", "The server is shutting down; reconnect shortly");
    }
  }

  /**
   * Registers a stream of `userId`; refused (TOO_MANY_REQUESTS) past the per-user or per-instance
   * limit, or while the server shuts down (SERVICE_UNAVAILABLE). `release` undoes it.
   */
  register(userId: string, listener: Listener): void {
    this.assertTaking();
    const mine = this.#streams.get(userId) ?? new Set<Listener>();
    if (mine.size >= this.limits.perUser) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `At most ${this.limits.perUser} live streams per user; close one first`,
        { retryAfterSeconds: STREAM_LIMIT_RETRY_SECONDS },
      );
    }
    if (this.#open >= this.limits.perInstance) {
      throw new AppError("TOO_MANY_REQUESTS", "This server has no room for another live stream", {
        retryAfterSeconds: STREAM_LIMIT_RETRY_SECONDS,
      });
    }
    mine.add(listener);
    this.#streams.set(userId, mine);
    this.#open++;
  }

  /** Forgets a registered stream; a second call does nothing. */
  release(userId: string, listener: Listener): void {
    const mine = this.#streams.get(userId);
    if (!mine?.delete(listener)) return;
    if (mine.size === 0) this.#streams.delete(userId);
    this.#open--;
  }

  /** A user's tasks changed: their streams read the feed. */
  publish(wake: Wake): void {
    for (const listener of this.#streams.get(wake.userId) ?? []) listener.wake(wake);
  }

  /** The listener reconnected (notifications may have been missed): every stream reads. */
  wakeAll(): void {
    for (const listeners of this.#streams.values()) for (const l of listeners) l.wake();
  }

  /** Ends every stream (with a retry hint where the transport gives one); refuses new ones. */
  shutdown(): void {
    this.#closing = true;
    for (const listeners of this.#streams.values()) for (const l of listeners) l.shutdown();
  }
}

/** How a stream ended, when it ended for a reason of its own. */
export type StreamEnd = "token_expired" | "shutdown";

/**
 * Each end as the error it travels as through tRPC (which ends a subscription with an error: a
 * client stops on UNAUTHORIZED and reconnects on SERVICE_UNAVAILABLE); the REST stream reads the
 * end back from the code (streamEndOf) and says it in its last event.
 */
const END_ERRORS = {
  token_expired: {
    code: "UNAUTHORIZED",
    message: "Token expired: subscribe again with a new token",
  },
  shutdown: { code: "SERVICE_UNAVAILABLE", message: "The server is shutting down; reconnect" },
} as const satisfies Record<StreamEnd, { code: AppErrorCode; message: string }>;

/** The error a stream's end travels as. */
export const streamEndError = (reason: StreamEnd): AppError =>
  new AppError(END_ERRORS[reason].code, END_ERRORS[reason].message);

/** Which end an error a stream ended with stands for (itself, or as a TRPCError's cause), if any. */
export function streamEndOf(error: unknown): StreamEnd | undefined {
  if (!(error instanceof Error)) return undefined;
  const app = error instanceof AppError ? error : error.cause;
  if (!(app instanceof AppError)) return undefined;
  return (Object.keys(END_ERRORS) as StreamEnd[]).find((end) => END_ERRORS[end].code === app.code);
}

export type LiveEvent =
  | { kind: "change"; cursor: string; change: TaskChange }
  | { kind: "end"; reason: StreamEnd };

/** Changes read per feed page while catching up. */
const PAGE = 100;
/** How soon a stream looks again when changes are held back by an older transaction. */
const WITHHELD_RETRY_MS = 25;

/**
 * Opens a user's live changes from `after` (a feed cursor; null: from now): first whatever the
 * feed holds after it, then each change as it commits, each with its cursor; no gap, no
 * duplicate. Refused before anything streams: past the stream limits (TOO_MANY_REQUESTS), or with
 * a cursor before the purge horizon (GONE, as in the feed). The stream ends when `signal` aborts,
 * or with an `end` event when the token expires or the server shuts down.
 */
export async function openLiveChanges(
  scope: Scope,
  hub: LiveHub,
  options: { after: FeedCursor | null; signal?: AbortSignal; expiresAt?: number },
): Promise<LiveChanges> {
  const stream = new LiveStream(scope, hub, options.signal);
  // Registered before the first read: a change that commits meanwhile wakes it, so none is lost.
  hub.register(scope.userId, stream);
  try {
    await stream.start(options.after, options.expiresAt);
  } catch (error) {
    stream.close();
    throw error;
  }
  return stream;
}

/** A user's live changes, and where they stand in the feed (a cursor to resume from). */
export type LiveChanges = AsyncIterableIterator<LiveEvent> & { readonly cursor: string };

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function expire(stream: LiveStream): void {
  stream.end("token_expired");
}

function lookAgain(stream: LiveStream): void {
  stream.wake();
}

/**
 * One open stream: an iterator over the user's changes. A class rather than an async generator,
 * because a thousand open streams each keep whatever their iterator holds: here that is these
 * fields, and a timer only for the token's expiry (no closures per stream).
 */
class LiveStream implements AsyncIterableIterator<LiveEvent> {
  /** A wake arrived since the last read. */
  #pending = false;
  #ended: StreamEnd | undefined;
  #closed = false;
  /** When the earliest unread wake's transaction began (fan-out latency). */
  #startedAt: number | undefined;
  #notify: (() => void) | undefined;
  #position: FeedCursor = { ...FEED_START, fullSync: false };
  #read: FeedRead | undefined;
  #index = 0;
  /** The last read was a full page: read on at once. */
  #more = false;
  #expiry: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;

  constructor(
    readonly scope: Scope,
    readonly hub: LiveHub,
    readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener("abort", this);
  }

  /** The first read: the feed after `after`, or (from now) past everything committed before. */
  async start(after: FeedCursor | null, expiresAt: number | undefined): Promise<void> {
    const first = await readChanges(this.scope, after ?? FEED_START, after ? PAGE : 0);
    if (after) {
      checkCursor(after, first);
      this.#position = after;
      this.#read = first;
    } else {
      this.#position = { ...first.now, fullSync: false };
      if (first.withheld) this.#lookAgainSoon();
    }
    if (expiresAt !== undefined) {
      this.#expiry = setTimeout(expire, Math.max(0, expiresAt - Date.now()), this);
      this.#expiry.unref();
    }
  }

  /** The user's tasks changed (or may have): read the feed. */
  wake(wake?: Wake): void {
    this.#pending = true;
    if (wake?.startedAt !== undefined) this.#startedAt ??= wake.startedAt;
    this.#rouse();
  }

  shutdown(): void {
    this.end("shutdown");
  }

  end(reason: StreamEnd): void {
    this.#ended ??= reason;
    this.#rouse();
  }

  /** The client went (the signal aborted). */
  handleEvent(): void {
    this.close();
    this.#rouse();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.hub.release(this.scope.userId, this);
    clearTimeout(this.#expiry);
    clearTimeout(this.#retry);
    this.signal?.removeEventListener("abort", this);
  }

  /** Where the stream stands in the feed: after the last change it gave, or where it started. */
  get cursor(): string {
    return encodeFeedCursor(this.#position);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<LiveEvent, undefined>> {
    try {
      for (;;) {
        if (this.#closed) return DONE;
        // Waits below hold no read in this frame: an idle stream keeps no changes alive.
        const taken = this.#take();
        if (taken) return taken;
        if (this.#more) {
          this.#more = false;
          await this.#readFeed();
          continue;
        }
        if (this.#ended !== undefined) {
          // The last event: the stream is over once it is taken.
          this.close();
          return { done: false, value: { kind: "end", reason: this.#ended } };
        }
        if (!this.#pending) {
          await new Promise<void>((resolve) => {
            this.#notify = resolve;
          });
          continue;
        }
        this.#pending = false;
        const wokenAt = this.#startedAt;
        this.#startedAt = undefined;
        await this.#readFeed();
        if (wokenAt !== undefined && this.#read?.found.length) {
          this.hub.onFanOut?.(Date.now() - wokenAt);
        }
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** The next change of the last read, if any is left; notes whether to read on. */
  #take(): IteratorYieldResult<LiveEvent> | undefined {
    const read = this.#read;
    if (!read) return undefined;
    const found = read.found[this.#index++];
    if (found) {
      this.#position = { ...found.position, fullSync: false };
      const cursor = encodeFeedCursor(this.#position);
      return { done: false, value: { kind: "change", cursor, change: found.change } };
    }
    this.#read = undefined;
    if (read.hasMore) this.#more = true;
    // Changes held back by an older transaction still running: look again shortly.
    else if (read.withheld) this.#lookAgainSoon();
    return undefined;
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.close();
    this.#rouse();
    return DONE;
  }

  async #readFeed(): Promise<void> {
    this.#read = await readChanges(this.scope, this.#position, PAGE);
    this.#index = 0;
  }

  #lookAgainSoon(): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(lookAgain, WITHHELD_RETRY_MS, this);
  }

  #rouse(): void {
    const notify = this.#notify;
    this.#notify = undefined;
    notify?.();
  }
}
