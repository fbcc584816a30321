import type { TaskChange } from "@todo/api/task/schemas";

export type TaskOnlyChange = Extract<TaskChange, { kind: "task" }>;

/**
 * A feed page of a user who never touched lists: every change is a task's (the untouched Inbox is
 * not in the feed). Throws on any other, so a test relying on it fails when that stops holding.
 */
export function onlyTasks<P extends { changes: TaskChange[] }>(
  page: P,
): Omit<P, "changes"> & { changes: TaskOnlyChange[] } {
  for (const change of page.changes) {
    if (change.kind !== "task") throw new Error(`A ${change.kind} change in a task-only feed`);
  }
  return page as Omit<P, "changes"> & { changes: TaskOnlyChange[] };
}
