// The README's client example, whole and runnable. With the server started (`pnpm start`):
//   TODO_TOKEN=$(pnpm -s run token alice) pnpm --filter @todo/consumer-example quickstart
// TODO_USER_ID (default alice) must be the token's subject; TODO_API_URL defaults to the local server.
import { createClient } from "@todo/client";
import { createRestClient } from "@todo/client/rest";

const url = process.env.TODO_API_URL ?? "http://127.0.0.1:3000";
const userId = process.env.TODO_USER_ID ?? "alice";
if (!process.env.TODO_TOKEN) {
  console.error(
    "Set TODO_TOKEN to a token for TODO_USER_ID: TODO_TOKEN=$(pnpm -s run token alice)",
  );
  process.exit(2);
}
// #region readme
// A browser app asks Better Auth: `(await authClient.token()).data?.token`; here, the environment.
const getToken = async () => process.env.TODO_TOKEN ?? "";

// tRPC, typed by the server's AppRouter (batched, at most 10 calls per request)
const api = createClient({ url, getToken });
const task = await api.task.create.mutate({ title: "Buy milk", priority: "high" });
const { items, nextCursor } = await api.task.list.query({
  status: "open",
  sort: "dueAt",
  order: "asc",
});
console.log(
  `tRPC: created "${task.title}"; ${items.length} open task(s), next page: ${nextCursor}`,
);

// REST, typed from the OpenAPI document (openapi-fetch)
const rest = createRestClient({ url, getToken });
const { data, error } = await rest.GET("/api/{user_id}/tasks", {
  params: { path: { user_id: userId }, query: { limit: 10 } },
});
if (error) throw new Error(`REST: ${error.error.code}: ${error.error.message}`);
console.log(`REST: ${data.data.length} task(s), request ${data.meta.requestId}`);
// #endregion readme
