// Each call below is wrong; each @ts-expect-error must be needed, so if the client's types ever
// stopped catching one, `pnpm typecheck` would fail on this file.
import { createClient } from "@todo/client";
import { createRestClient } from "@todo/client/rest";

const api = createClient({ url: "http://x", getToken: () => "t" });
const rest = createRestClient({ url: "http://x", getToken: () => "t" });

export const wrong = [
  // @ts-expect-error no such procedure
  () => api.task.archive.mutate({ id: "x" }),
  // @ts-expect-error priority is low | medium | high
  () => api.task.create.mutate({ title: "x", priority: "urgent" }),
  // @ts-expect-error the user id never comes from input
  () => api.task.list.query({ userId: "someone" }),
  // @ts-expect-error a task has no `done` field
  () => api.task.byId.query({ id: "x" }).then((t) => t.done),
  // @ts-expect-error no such REST route
  () => rest.GET("/api/{user_id}/projects", { params: { path: { user_id: "u" } } }),
  // @ts-expect-error title is required
  () => rest.POST("/api/{user_id}/tasks", { params: { path: { user_id: "u" } }, body: {} }),
  // @ts-expect-error the path needs user_id
  () => rest.GET("/api/{user_id}/tasks", { params: { path: {} } }),
];
