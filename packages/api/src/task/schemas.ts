import { z } from "zod";

// Clients read these messages in `issues`: plain words instead of zod's defaults ("Invalid input:
// expected string, received undefined"). Set once for the process; a schema's own message wins.
const ARTICLE: Record<string, string> = {
  object: "an object",
  array: "an array",
  int: "an integer",
};
z.config({
  customError: (issue) => {
    if (issue.code === "invalid_type") {
      if (issue.input === undefined) return "Required";
      return `Must be ${ARTICLE[issue.expected] ?? `a ${issue.expected}`}`;
    }
    if (issue.code === "invalid_value" && issue.values.every((v) => typeof v === "string")) {
      return `Must be one of: ${issue.values.join(", ")}`;
    }
    return undefined;
  },
});

// Tabs and newlines are fine in a description; no other control character (NUL cannot even be
// stored in PostgreSQL text) is accepted anywhere.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Lengths count characters (code points), as PostgreSQL's VARCHAR(n) does. */
const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

function text(options: { max: number; multiline: boolean; trim?: boolean }) {
  const control = options.multiline ? CONTROL_IN_TEXT : CONTROL_IN_LINE;
  const tooLong = `Must be at most ${options.max} characters`;
  // A cheap bound first (a character is at most two UTF-16 units; trimming may drop a little
  // more), so huge strings are refused before any per-character work, with one message: it
  // aborts the checks after it, which would say the same.
  const raw = z.string().max(options.max * 2 + 64, { message: tooLong, abort: true });
  return (
    (options.trim ? raw.trim().min(1, "Must not be empty") : raw)
      .refine((s) => s.isWellFormed(), "Must be valid Unicode (no lone surrogates)")
      .refine((s) => !control.test(s), "Must not contain control characters")
      .refine((s) => codePoints(s) <= options.max, tooLong)
      // Documents the real bound (JSON Schema counts code points too), not the cheap one.
      .meta({ maxLength: options.max })
  );
}

export const zPriority = z.enum(["low", "medium", "high"]);
export type Priority = z.infer<typeof zPriority>;

export const zTaskId = z.uuid({ message: "Must be a task id (UUID)" });

/** An ISO 8601 date-time with an explicit offset (`Z` or `+02:00`), parsed to a Date. */
export const zDateTime = z.iso
  .datetime({ offset: true, message: "Must be an ISO 8601 date-time with offset" })
  .transform((s) => new Date(s));

const zTitle = text({ max: 200, multiline: false, trim: true });
const zDescription = text({ max: 10_000, multiline: true });
const zVersion = z.number().int().min(1).max(2_147_483_647);

/** Every editable field of a new or replaced task; omitted ones take TASK_DEFAULTS. */
const zTaskFields = z.strictObject({
  title: zTitle,
  description: zDescription.nullish(),
  priority: zPriority.optional(),
  dueAt: zDateTime.nullish(),
  completed: z.boolean().optional(),
});

export const zTaskCreate = zTaskFields
  .extend({
    /**
     * A client-chosen id (UUID; v7 recommended). Creating again with the same id and fields
     * creates nothing and answers the task; the same id with other fields is CONFLICT.
     */
    id: zTaskId.optional(),
  })
  .meta({ id: "TaskCreate" });
export type TaskCreate = z.infer<typeof zTaskCreate>;

const editable = {
  title: zTitle.optional(),
  description: zDescription.nullable().optional(),
  priority: zPriority.optional(),
  dueAt: zDateTime.nullable().optional(),
  completed: z.boolean().optional(),
};

const hasEdit = (input: Partial<Record<keyof typeof editable, unknown>>) =>
  Object.keys(editable).some((key) => input[key as keyof typeof editable] !== undefined);
const NOTHING_TO_UPDATE =
  "Nothing to update: give at least one of title, description, priority, dueAt, completed";

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

export const TASK_SORT_FIELDS = ["createdAt", "updatedAt", "dueAt", "priority", "title"] as const;
export const zTaskSort = z.enum(TASK_SORT_FIELDS);
export type TaskSort = z.infer<typeof zTaskSort>;
export const zSortOrder = z.enum(["asc", "desc"]);
export type SortOrder = z.infer<typeof zSortOrder>;

export const LIST_LIMIT_DEFAULT = 20;
export const LIST_LIMIT_MAX = 100;

/** The list's filters, sort and page (in REST: query parameters). */
export const zTaskListQuery = z.strictObject({
  status: z.enum(["all", "open", "completed"]).default("all"),
  priority: zPriority.optional(),
  dueBefore: zDateTime.optional(),
  dueAfter: zDateTime.optional(),
  /** Case-insensitive substring of the title or the description. */
  q: text({ max: 200, multiline: false, trim: true }).optional(),
  sort: zTaskSort.default("createdAt"),
  order: zSortOrder.default("desc"),
  limit: z.number().int().min(1).max(LIST_LIMIT_MAX).default(LIST_LIMIT_DEFAULT),
  /** `nextCursor` of the previous page, for the same filters and sort. */
  cursor: z.string().max(2_000).nullish(),
});

export const zTaskListInput = zTaskListQuery.prefault({});
export type TaskListInput = z.infer<typeof zTaskListInput>;

const zIsoDateTime = z.iso.datetime({ offset: true });

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

/** One task's latest state in the feed: the task, or a tombstone (`deleted`, task null). */
export const zTaskChange = z
  .object({ id: z.string(), deleted: z.boolean(), task: zTask.nullable() })
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
