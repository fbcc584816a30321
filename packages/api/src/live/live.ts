// Live updates. Each server instance hears, on one connection, which users' tasks changed (LISTEN
// task_changes; see the server's listener) and wakes those users' streams here; each stream then
// reads the change feed from its own cursor. So a stream and the feed cannot disagree, and a lost
// notification loses nothing but time: the next wake, or the catch-up after the listener
// reconnects, reads from the cursor.
import { AppError } from "../errors.ts";
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
type Listener = { wake: (wake?: Wake) => void; shutdown: () => void };

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
   * Registers a stream of `userId`; refused (TOO_MANY_REQUESTS) past the per-user or per-instance
   * limit, or while the server shuts down (SERVICE_UNAVAILABLE). Returns the release.
   */
  register(userId: string, listener: Listener): () => void {
    if (this.#closing) {
      throw new AppError("SERVICE_UNAVAILABLE", "The server is shutting down; reconnect shortly");
    }
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
    let released = false;
    return () => {
      if (released) return;
      released = true;
      mine.delete(listener);
      if (mine.size === 0) this.#streams.delete(userId);
      this.#open--;
    };
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
): Promise<AsyncGenerator<LiveEvent>> {
  let pending = false;
  let ended: StreamEnd | undefined;
  let startedAt: number | undefined;
  let notify: (() => void) | undefined;
  const rouse = () => {
    notify?.();
    notify = undefined;
  };
  // Registered before the first read: a change that commits meanwhile wakes it, so none is lost.
  const release = hub.register(scope.userId, {
    wake: (wake) => {
      pending = true;
      if (wake?.startedAt !== undefined) startedAt ??= wake.startedAt;
      rouse();
    },
    shutdown: () => {
      ended = "shutdown";
      rouse();
    },
  });
  const { signal } = options;
  signal?.addEventListener("abort", release);
  let first: FeedRead;
  try {
    first = await readChanges(scope, options.after ?? FEED_START, options.after ? PAGE : 0);
    if (options.after) checkCursor(options.after, first);
  } catch (error) {
    release();
    throw error;
  }

  let retry: NodeJS.Timeout | undefined;
  const lookAgainSoon = () => {
    clearTimeout(retry);
    retry = setTimeout(() => {
      pending = true;
      rouse();
    }, WITHHELD_RETRY_MS);
  };

  async function* stream(): AsyncGenerator<LiveEvent> {
    const expiry =
      options.expiresAt === undefined
        ? undefined
        : setTimeout(
            () => {
              ended = "token_expired";
              rouse();
            },
            Math.max(0, options.expiresAt - Date.now()),
          );
    expiry?.unref();
    const onAbort = () => rouse();
    signal?.addEventListener("abort", onAbort);
    try {
      // From now: past everything committed before the first read.
      let position: FeedCursor = options.after ?? { ...first.now, fullSync: false };
      let read: FeedRead | undefined = options.after ? first : undefined;
      if (!options.after && first.withheld) lookAgainSoon();
      for (;;) {
        if (read) {
          for (const { position: at, change } of read.found) {
            position = { ...at, fullSync: false };
            yield { kind: "change", cursor: encodeFeedCursor(position), change };
          }
          if (read.hasMore) {
            read = await readChanges(scope, position, PAGE);
            continue;
          }
          // Changes held back by an older transaction still running: look again shortly.
          if (read.withheld) lookAgainSoon();
          read = undefined;
        }
        if (signal?.aborted || ended !== undefined) break;
        if (!pending) {
          await new Promise<void>((resolve) => {
            notify = resolve;
          });
          continue;
        }
        pending = false;
        const wokenAt = startedAt;
        startedAt = undefined;
        read = await readChanges(scope, position, PAGE);
        if (wokenAt !== undefined && read.found.length > 0) hub.onFanOut?.(Date.now() - wokenAt);
      }
      if (ended !== undefined && !signal?.aborted) yield { kind: "end", reason: ended };
    } finally {
      release();
      clearTimeout(expiry);
      clearTimeout(retry);
      signal?.removeEventListener("abort", onAbort);
    }
  }
  return stream();
}
