// The README's client example, whole and runnable. With the server started (`pnpm start`):
//   TODO_TOKEN=$(pnpm -s run token alice) pnpm --filter @todo/consumer-example quickstart
// TODO_USER_ID (default alice) must be the token's subject; TODO_API_URL defaults to the local server.
// After the README's example, main.ts's lists tour runs on both surfaces.
import { createClient } from "@todo/client";
import { createRestClient } from "@todo/client/rest";
import { withLists, withRestLists } from "./main.ts";

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

// Lists, manual order, subtasks and labels, once per surface: both answer the same.
const tours = { tRPC: await withLists(api), REST: await withRestLists(userId, rest) };
for (const [surface, tour] of Object.entries(tours)) {
  const labels = tour.labels.map((l) => `${l.label} (${l.count})`).join(", ");
  console.log(
    `${surface} lists: "${tour.list}" has ${tour.order.join(", ")}; ` +
      `Bread moved after Milk: ${tour.reordered.join(", ")}`,
  );
  console.log(
    `${surface} lists: Milk moved to "${tour.movedTo}" with its ${tour.followed} subtask(s); ` +
      `labels: ${labels}`,
  );
  console.log(
    `${surface} lists: renamed "${tour.renamed}" and moved first: ${tour.lists.join(", ")}; ` +
      `deleted with ${tour.deletedTasks.join(" + ")} task(s)`,
  );
}
