import type { AppRouter } from "@todo/api/router";
import { createTRPCClient, httpBatchLink, httpLink, splitLink } from "@trpc/client";

export type { AppRouter };

export type ClientOptions = {
  /** The server's base URL, e.g. https://api.example.com */
  url: string;
  /** Returns the current bearer token (Better Auth's JWT); called for every request. */
  getToken: () => string | Promise<string>;
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

/**
 * A typed tRPC client: `client.task.list.query(…)`, `client.task.create.mutate(…)`. Calls are
 * batched (at most 10 per request), but a mutation with an Idempotency-Key goes alone, since the
 * key is a header and covers one call.
 */
export function createClient({ url, getToken }: ClientOptions) {
  const endpoint = `${url.replace(/\/+$/, "")}/trpc`;
  const auth = async () => ({ authorization: `Bearer ${await getToken()}` });
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
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
      }),
    ],
  });
}
