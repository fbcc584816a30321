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
  // @ts-expect-error a move names the task it moves
  () => api.task.move.mutate({ afterId: null }),
  // @ts-expect-error a list's name is a string
  () => api.list.create.mutate({ name: 42 }),
  // @ts-expect-error the manual order is sort "position"
  () => api.task.list.query({ listId: "l", parentId: null, sort: "manual" }),
  // @ts-expect-error labels are an array of strings
  () => api.task.create.mutate({ title: "x", labels: "dairy" }),
  // @ts-expect-error a label count has no `name`: it is `label`
  () => api.task.labels.query().then((labels) => labels[0]?.name),
  () =>
    rest.POST("/api/{user_id}/tasks/{id}/move", {
      params: { path: { user_id: "u", id: "x" } },
      // @ts-expect-error afterId is a task id (or null), not an index
      body: { afterId: 1 },
    }),
  () =>
    rest.PATCH("/api/{user_id}/lists/{listId}", {
      // @ts-expect-error a list's path parameter is listId
      params: { path: { user_id: "u", id: "x" } },
      body: { name: "x" },
    }),
  () =>
    // @ts-expect-error lists are renamed with PATCH, not replaced with PUT
    rest.PUT("/api/{user_id}/lists/{listId}", {
      params: { path: { user_id: "u", listId: "x" } },
      body: { name: "x" },
    }),
];
