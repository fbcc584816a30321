import type { AppRouter } from "@todo/api/router";
import { createTRPCClient, httpBatchLink } from "@trpc/client";

export type { AppRouter };

export type ClientOptions = {
  /** The server's base URL, e.g. https://api.example.com */
  url: string;
  /** Returns the current bearer token (Better Auth's JWT); called for every request. */
  getToken: () => string | Promise<string>;
};

/** A typed tRPC client: `client.task.list.query(…)`, `client.task.create.mutate(…)`. */
export function createClient({ url, getToken }: ClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${url.replace(/\/+$/, "")}/trpc`,
        // The server takes at most 10 calls per batch.
        maxItems: 10,
        headers: async () => ({ authorization: `Bearer ${await getToken()}` }),
      }),
    ],
  });
}
