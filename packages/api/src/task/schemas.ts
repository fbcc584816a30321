import { z } from "zod";
import { text, zDateTime, zIsoDateTime, zListId, zTaskId, zVersion } from "../fields.ts";
import { zList } from "../list/schemas.ts";

export { text, zDateTime, zListId, zTaskId, zVersion } from "../fields.ts";

export const zPriority = z.enum(["low", "medium", "high"]);
export type Priority = z.infer<typeof zPriority>;

const zTitle = text({ max: 200, multiline: false, trim: true });
const zDescription = text({ max: 10_000, multiline: true });

export const LABELS_MAX = 20;
export const zLabel = text({ max: 50, multiline: false, trim: true });
/** A task's labels: up to 20, each 1-50 characters, unique ignoring case; kept in the given order. */
export const zLabels = z
  .array(zLabel)
  .max(LABELS_MAX, `At most ${LABELS_MAX} labels`)
  .refine(
    (labels) => new Set(labels.map((l) => l.toLowerCase())).size === labels.length,
    "Labels must be unique (ignoring case)",
  );

/** Every editable field of a new or replaced task; omitted ones take TASK_DEFAULTS. */
const zTaskFields = z.strictObject({
  title: zTitle,
  description: zDescription.nullish(),
  priority: zPriority.optional(),
  dueAt: zDateTime.nullish(),
  completed: z.boolean().optional(),
  labels: zLabels.optional(),
});

export const zTaskCreate = zTaskFields
  .extend({
    /**
     * A client-chosen id (UUID; v7 recommended). Creating again with the same id and fields
     * creates nothing and answers the task; the same id with other fields is CONFLICT.
     */
    id: zTaskId.optional(),
    /** The list (default: the parent's list, else the Inbox); the task goes first in it. */
    listId: zListId.optional(),
    /** A top-level task of the same list: the new task is one of its subtasks (one level). */
    parentId: zTaskId.optional(),
  })
  .meta({ id: "TaskCreate" });
export type TaskCreate = z.infer<typeof zTaskCreate>;

const editable = {
  title: zTitle.optional(),
  description: zDescription.nullable().optional(),
  priority: zPriority.optional(),
  dueAt: zDateTime.nullable().optional(),
  completed: z.boolean().optional(),
  labels: zLabels.optional(),
};

const hasEdit = (input: Partial<Record<keyof typeof editable, unknown>>) =>
  Object.keys(editable).some((key) => input[key as keyof typeof editable] !== undefined);
const NOTHING_TO_UPDATE =
  "Nothing to update: give at least one of title, description, priority, dueAt, completed, labels";

/** A partial change (REST PATCH body): the task id comes from the path. */
export const zTaskPatch = z
  .strictObject({
    /** When given, the update applies only if the task is still at this version (else CONFLICT). */
    version: zVersion.optional(),
    ...editable,
  })
  .meta({ id: "TaskPatch" });

export const zTaskUpdate = zTaskPatch
  .extend({ id: zTaskId })
  .refine(hasEdit, { message: NOTHING_TO_UPDATE });
export type TaskUpdate = z.infer<typeof zTaskUpdate>;

/** What a new task, or a replaced one, has for each editable field that was not given. */
export const TASK_DEFAULTS = {
  description: null,
  priority: "medium",
  dueAt: null,
  completed: false,
  labels: [] as string[],
} as const;

/** A full replacement (REST PUT): like create, plus the optional expected version. */
export const zTaskReplace = zTaskFields
  .extend({ version: zVersion.optional() })
  .meta({ id: "TaskReplace" });

/** task.replace: every editable field, omitted ones back to their defaults (REST PUT). */
export const zTaskReplaceInput = zTaskReplace.extend({ id: zTaskId });
export type TaskReplace = z.infer<typeof zTaskReplaceInput>;

export const zTaskIdInput = z.strictObject({ id: zTaskId });
/** A change to one task, applied only if it is still at `version` when given (else CONFLICT). */
export const zTaskVersionedIdInput = z.strictObject({ id: zTaskId, version: zVersion.optional() });
export const zTaskSetCompleted = z.strictObject({ id: zTaskId, completed: z.boolean() });

/**
 * Where a move puts a task: right after `afterId` (null or omitted: first) among the siblings of
 * the given list and parent. `afterId` names the list and parent by itself; without it, the list
 * is `listId`, else the parent's, else the task's own, and the parent is `parentId` (null: top
 * level), else the task's own when it stays in its list, else none.
 */
export const zTaskMoveFields = z.strictObject({
  listId: zListId.optional(),
  parentId: zTaskId.nullable().optional(),
  afterId: zTaskId.nullable().optional(),
  /** When given, the move applies only if the task is still at this version (else CONFLICT). */
  version: zVersion.optional(),
});
export const zTaskMove = zTaskMoveFields.meta({ id: "TaskMove" });
export const zTaskMoveInput = zTaskMoveFields.extend({ id: zTaskId });
export type TaskMove = z.infer<typeof zTaskMoveInput>;

/** A label in use, with how many of the caller's tasks carry it. */
export const zLabelCount = z
  .object({ label: z.string(), count: z.number().int() })
  .meta({ id: "LabelCount" });
export type LabelCount = z.infer<typeof zLabelCount>;

export const TASK_SORT_FIELDS = [
  "createdAt",
  "updatedAt",
  "dueAt",
  "priority",
  "title",
  "position",
] as const;
export const zTaskSort = z.enum(TASK_SORT_FIELDS);
export type TaskSort = z.infer<typeof zTaskSort>;
export const zSortOrder = z.enum(["asc", "desc"]);
export type SortOrder = z.infer<typeof zSortOrder>;

export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;

/** The list's filters, sort and page (in REST: query parameters). */
export const zTaskListQuery = z
  .strictObject({
    status: z.enum(["all", "open", "completed"]).default("all"),
    priority: zPriority.optional(),
    dueBefore: zDateTime.optional(),
    dueAfter: zDateTime.optional(),
    /** Case-insensitive substring of the title or the description. */
    q: text({ max: 200, multiline: false, trim: true }).optional(),
    /** One list's tasks. */
    listId: zListId.optional(),
    /** One task's subtasks; null: top-level tasks only (in REST: `parentId=null`). */
    parentId: zTaskId.nullable().optional(),
    /** Tasks with this label (ignoring case). */
    label: zLabel.optional(),
    /** `position`: the manual order (meaningful within one list and parent). */
    sort: zTaskSort.default("createdAt"),
    order: zSortOrder.default("desc"),
    limit: z.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
    /** `nextCursor` of the previous page, for the same filters and sort. */
    cursor: z.string().max(2_000).nullish(),
  })
  // The manual order is kept per sibling group: position order lists one.
  .refine((q) => q.sort !== "position" || (q.parentId === null ? !!q.listId : !!q.parentId), {
    path: ["sort"],
    message:
      "sort=position lists one sibling group: give listId with parentId=null (its top-level tasks), or parentId (that task's subtasks)",
  });

export const zTaskListInput = zTaskListQuery.prefault({});
export type TaskListInput = z.infer<typeof zTaskListInput>;

/** A task as both API surfaces return it; dates are ISO 8601 strings in UTC. */
export const zTask = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    completed: z.boolean(),
    completedAt: zIsoDateTime.nullable(),
    priority: zPriority,
    dueAt: zIsoDateTime.nullable(),
    createdAt: zIsoDateTime,
    updatedAt: zIsoDateTime,
    version: z.number().int(),
    listId: z.string(),
    /** The top-level task this one is a subtask of, or null. */
    parentId: z.string().nullable(),
    /** Opaque; sorts the task among its siblings (same list and parent), byte by byte. */
    position: z.string(),
    labels: z.array(z.string()),
  })
  .meta({ id: "Task" });
export type TaskDto = z.infer<typeof zTask>;

export const zTaskPage = z.object({
  items: z.array(zTask),
  nextCursor: z.string().nullable(),
});
export type TaskPage = z.infer<typeof zTaskPage>;

export const zTaskStats = z
  .object({
    total: z.number().int(),
    open: z.number().int(),
    completed: z.number().int(),
    overdue: z.number().int(),
  })
  .meta({ id: "TaskStats" });
export type TaskStats = z.infer<typeof zTaskStats>;

export const zDeleted = z.object({ id: z.string() });

/** How many tasks one call deleted (task.clearCompleted). */
export const zDeletedCount = z.object({ count: z.number().int() }).meta({ id: "DeletedCount" });

export const FEED_LIMIT_DEFAULT = 100;
export const FEED_LIMIT_MAX = 500;

/** The change feed's page: after `since` (a nextCursor of the feed), or from the start. */
export const zTaskChangesQuery = z.strictObject({
  /** `nextCursor` of an earlier page; without it, a full sync. */
  since: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(FEED_LIMIT_MAX).default(FEED_LIMIT_DEFAULT),
});
export const zTaskChangesInput = zTaskChangesQuery.prefault({});
export type TaskChangesInput = z.infer<typeof zTaskChangesInput>;

/**
 * One task's or list's latest state in the feed, told apart by `kind`: the task or the list, or a
 * tombstone (`deleted`, task or list null). A task's change keeps the shape it always had.
 */
export const zTaskChange = z
  .discriminatedUnion("kind", [
    z.object({
      kind: z.literal("task"),
      id: z.string(),
      deleted: z.boolean(),
      task: zTask.nullable(),
    }),
    z.object({
      kind: z.literal("list"),
      id: z.string(),
      deleted: z.boolean(),
      list: zList.nullable(),
    }),
  ])
  .meta({ id: "TaskChange" });
export type TaskChange = z.infer<typeof zTaskChange>;

export const zTaskChanges = z.object({
  changes: z.array(zTaskChange),
  /** Where the next page starts; the same cursor back when nothing changed. */
  nextCursor: z.string(),
  /** More changes are ready now: ask again at once. */
  hasMore: z.boolean(),
});
export type TaskChanges = z.infer<typeof zTaskChanges>;

/**
 * task.onChange: where to resume (a cursor of the feed or of an earlier event); tRPC's client
 * sends the last event's id back as `lastEventId` when it reconnects. Neither: from now.
 */
export const zTaskOnChangeInput = z
  .strictObject({
    since: z.string().max(200).nullish(),
    lastEventId: z.string().max(200).nullish(),
  })
  .optional();

/** A stream ticket: what a browser's EventSource sends instead of a header. */
export const zStreamTicket = z
  .object({ ticket: z.string(), expiresAt: z.iso.datetime({ offset: true }) })
  .meta({ id: "StreamTicket" });

export const BATCH_MAX_OPS = 100;

/** One operation of task.batch, named by `op`, with the fields of the procedure it stands for. */
export const zTaskBatchOp = z
  .discriminatedUnion("op", [
    zTaskCreate.extend({ op: z.literal("create") }),
    zTaskPatch
      .extend({ op: z.literal("update"), id: zTaskId })
      .refine(hasEdit, { message: NOTHING_TO_UPDATE }),
    zTaskSetCompleted.extend({ op: z.literal("setCompleted") }),
    zTaskVersionedIdInput.extend({ op: z.literal("delete") }),
    zTaskMoveInput.extend({ op: z.literal("move") }),
  ])
  .meta({ id: "TaskBatchOp" });
export type TaskBatchOp = z.infer<typeof zTaskBatchOp>;

export const zTaskBatchInput = z
  .strictObject({
    ops: z.array(zTaskBatchOp).min(1).max(BATCH_MAX_OPS),
    /** All or nothing, in one transaction (default); false: each operation stands alone. */
    atomic: z.boolean().default(true),
  })
  .meta({ id: "TaskBatch" });
export type TaskBatchInput = z.infer<typeof zTaskBatchInput>;

/** One operation's outcome: the task it left (null after a delete), or its error. */
export const zTaskBatchResult = z
  .discriminatedUnion("ok", [
    z.object({ ok: z.literal(true), id: z.string(), task: zTask.nullable() }),
    z.object({
      ok: z.literal(false),
      /** The task the operation named; null for a create without a client-chosen id. */
      id: z.string().nullable(),
      error: z.object({ code: z.string(), message: z.string() }),
    }),
  ])
  .meta({ id: "TaskBatchResult" });
export type TaskBatchResult = z.infer<typeof zTaskBatchResult>;

export const zTaskBatchOutput = z.object({ results: z.array(zTaskBatchResult) });
export type TaskBatchOutput = z.infer<typeof zTaskBatchOutput>;
