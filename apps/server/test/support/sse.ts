// The REST live stream as a client sees it, read with fetch (so any header can be sent) and parsed
// as an EventSource would. (tRPC subscriptions: the harness's trpcClient.)

export type SseEvent = { id?: string; event: string; data: string };

export type RestStream = {
  status: number;
  headers: Headers;
  /** Every event so far (comments left out). */
  events: SseEvent[];
  /** Comments (heartbeats) and `retry:` lines seen. */
  comments: string[];
  retry?: number;
  /** Resolves once `count` events of kind `event` have arrived (rejects after `timeoutMs`). */
  waitFor: (count: number, options?: { event?: string; timeoutMs?: number }) => Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close: () => void;
  body?: unknown;
};

/** Opens `GET …/tasks/events` and parses it as an EventSource would. */
export async function openRestStream(
  url: string,
  headers: Record<string, string>,
): Promise<RestStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal,
  });
  const stream: RestStream = {
    status: response.status,
    headers: response.headers,
    events: [],
    comments: [],
    waitFor: async () => [],
    ended: Promise.resolve(),
    close: () => abort.abort(),
  };
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    stream.body = await response.json();
    return stream;
  }
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const waiter of waiters) waiter();
  };
  stream.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          let hasData = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) stream.comments.push(line);
            else if (line.startsWith("retry: ")) stream.retry = Number(line.slice(7));
            else if (line.startsWith("id: ")) event.id = line.slice(4);
            else if (line.startsWith("event: ")) event.event = line.slice(7);
            else if (line.startsWith("data: ")) {
              event.data += (hasData ? "\n" : "") + line.slice(6);
              hasData = true;
            }
          }
          if (hasData) stream.events.push(event);
        }
        poke();
      }
    } catch {
      // Closed by the test.
    } finally {
      poke();
    }
  })();
  let ended = false;
  void stream.ended.then(() => {
    ended = true;
  });
  stream.waitFor = (count, { event = "change", timeoutMs = 5_000 } = {}) =>
    new Promise((resolve, reject) => {
      const matching = () => stream.events.filter((e) => e.event === event);
      const check = () => {
        if (matching().length >= count) {
          cleanup();
          resolve(matching());
        } else if (ended) {
          cleanup();
          reject(
            new Error(`stream ended after ${matching().length} of ${count} "${event}" events`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`only ${matching().length} of ${count} "${event}" events in ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return stream;
}
