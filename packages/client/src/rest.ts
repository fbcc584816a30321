import createFetchClient from "openapi-fetch";
import type { ClientOptions } from "./index.ts";
import type { components, paths } from "./rest-schema.ts";

export type { components, paths };

/**
 * A typed REST client (openapi-fetch over the types generated from /api/openapi.json):
 * `rest.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { limit: 10 } } })`.
 */
export function createRestClient({ url, getToken }: ClientOptions) {
  const client = createFetchClient<paths>({ baseUrl: url.replace(/\/+$/, "") });
  client.use({
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await getToken()}`);
      return request;
    },
  });
  return client;
}
