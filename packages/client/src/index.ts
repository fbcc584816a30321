import type { AppRouter } from "@todo/api/router";
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  retryLink,
  splitLink,
} from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { EventSource as HeaderEventSource } from "eventsource";

// Errors of every call are TRPCClientError: `error.data.code`, `error.data.httpStatus`, ….
export { TRPCClientError } from "@trpc/client";
export type { AppRouter };

/** Every procedure's input and output types, by path: `RouterOutputs["list"]["byId"]` is a List. */
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
/** The API's data as the tRPC client returns it. */
export type Task = RouterOutputs["task"]["byId"];
export type List = RouterOutputs["list"]["byId"];
export type LabelCount = RouterOutputs["task"]["labels"][number];
export type Change = RouterOutputs["task"]["changes"]["changes"][number];

export type ClientOptions = {
  /** The server's base URL, e.g. https://api.example.com */
  url: string;
  /** Returns the current bearer token (Better Auth's JWT); called for every request. */
  getToken: () => string | Promise<string>;
  /**
   * How live subscriptions (`task.onChange`) authenticate. `header` (the default outside
   * browsers): the Authorization header, through the `eventsource` package. `ticket` (the default
   * in browsers, whose EventSource cannot send headers): a stream ticket fetched with the token
   * before each (re)connection, sent in connectionParams. A token never goes in a URL.
   */
  live?: "header" | "ticket";
};

/** Per-call options: `mutate(input, { context: { idempotencyKey } })`. */
export type CallContext = {
  /**
   * Makes a mutation safe to retry: the server keeps the first answer for 24 hours and gives it
   * again to the same call with the same key. Use a new key (a UUID) per intended change, and the
   * same key for every retry of it.
   */
  idempotencyKey?: string;
};

const keyOf = (context: Record<string, unknown>) =>
  typeof context.idempotencyKey === "string" ? context.idempotencyKey : undefined;

/** How task.onChange ends when the token it was opened with expires (the server's message). */
export const STREAM_TOKEN_EXPIRED_MESSAGE = "Token expired: subscribe again with a new token";

/** A browser's own EventSource (which sends no headers) is there. */
const inBrowser = () =>
  typeof (globalThis as { document?: unknown }).document !== "undefined" &&
  typeof (globalThis as { EventSource?: unknown }).EventSource === "function";

/**
 * A typed tRPC client: `client.task.list.query(…)`, `client.task.create.mutate(…)`,
 * `client.task.onChange.subscribe(…)`. Calls are batched (at most 10 per request), but a mutation
 * with an Idempotency-Key goes alone, since the key is a header and covers one call; subscriptions
 * run over Server-Sent Events and resume from the last event after a reconnect, including the one
 * a stream makes when its token expires.
 */
export function createClient({ url, getToken, live }: ClientOptions) {
  const endpoint = `${url.replace(/\/+$/, "")}/trpc`;
  const auth = async () => ({ authorization: `Bearer ${await getToken()}` });
  const calls = splitLink({
    condition: (op) => keyOf(op.context) !== undefined,
    true: httpLink({
      url: endpoint,
      headers: async ({ op }) => ({
        ...(await auth()),
        "idempotency-key": keyOf(op.context) as string,
      }),
    }),
    // The server takes at most 10 calls per batch.
    false: httpBatchLink({ url: endpoint, maxItems: 10, headers: auth }),
  });
  const tickets = createTRPCClient<AppRouter>({
    links: [httpLink({ url: endpoint, headers: auth })],
  });
  // The fetch-based EventSource connects through this for the first connection and for every
  // reconnection (it keeps one URL): a fresh token in the header, or a fresh single-use ticket in
  // the URL's connectionParams, each time.
  const connect =
    (live ?? (inBrowser() ? "ticket" : "header")) === "ticket"
      ? async (input: string | URL | Request, init?: RequestInit) => {
          const url = new URL(input instanceof Request ? input.url : input);
          const { ticket } = await tickets.task.streamTicket.mutate();
          url.searchParams.set("connectionParams", JSON.stringify({ ticket }));
          return fetch(url, init);
        }
      : async (input: string | URL | Request, init?: RequestInit) =>
          fetch(input, { ...init, headers: { ...init?.headers, ...(await auth()) } });
  const subscriptions = httpSubscriptionLink<AppRouter, typeof HeaderEventSource>({
    url: endpoint,
    EventSource: HeaderEventSource,
    eventSourceOptions: { fetch: connect },
  });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // A stream that outlived its token reopens at once with a fresh one (getToken), from its
        // last event; any other end (UNAUTHORIZED at connect, say) reaches onError.
        true: [
          retryLink({ retry: ({ error }) => error.message === STREAM_TOKEN_EXPIRED_MESSAGE }),
          subscriptions,
        ],
        false: calls,
      }),
    ],
  });
}
