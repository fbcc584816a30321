import { createHash, randomUUID } from "node:crypto";
import { generateKeyBetween } from "fractional-indexing";
import { AppError, taskNotFound } from "../errors.ts";
import {
  countOf,
  type Executor,
  inTransaction,
  purgeInBatches,
  rowsOf,
  type Scope,
} from "../sql.ts";
import { ensureUser, recreateUser } from "../user/user.ts";
import {
  decodeCursor,
  decodeFeedCursor,
  encodeCursor,
  encodeFeedCursor,
  FEED_START,
  type FeedCursor,
  type FeedPosition,
  isBefore,
} from "./cursor.ts";
import {
  TASK_DEFAULTS,
  type TaskBatchInput,
  type TaskBatchOp,
  type TaskBatchResult,
  type TaskChange,
  type TaskChanges,
  type TaskChangesInput,
  type TaskCreate,
  type TaskDto,
  type TaskListInput,
  type TaskPage,
  type TaskStats,
  type TaskUpdate,
} from "./schemas.ts";
import {
  changesStatement,
  clearCompletedStatement,
  deleteTaskStatement,
  existingTask,
  inboxFirstPlace,
  insertTask,
  listStatements,
  purgeLock,
  purgeTombstonesStatement,
  selectTask,
  taskExists,
  taskStatsStatement,
  toggleStatement,
  updateTaskStatement,
} from "./sql.ts";

// Every operation is SQL from sql.ts, rows shaped there as the API's Task (TaskDto). Each runs on
// the scope's executor: the pool, or the transaction the request holds.

/** PostgreSQL's foreign_key_violation. */
const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error && (error as { code?: string }).code === "23503";

/** One page of the caller's tasks, filtered and sorted, with the cursor of the next page. */
export async function listTasks(scope: Scope, input: TaskListInput): Promise<TaskPage> {
  const { userId } = scope;
  const cursor = input.cursor ? decodeCursor(input.cursor, input.sort, input.order) : undefined;
  // limit + 1 rows: the extra one says whether there is a next page.
  const rows: TaskDto[] = [];
  for (const statement of listStatements(userId, input, cursor)) {
    const take = input.limit + 1 - rows.length;
    if (take <= 0) break;
    rows.push(...(await rowsOf<TaskDto>(scope, statement(take))));
  }
  const items = rows.slice(0, input.limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > input.limit && last
      ? encodeCursor({
          sort: input.sort,
          order: input.order,
          value: last[input.sort],
          id: last.id,
        })
      : null;
  return { items, nextCursor };
}

export async function getTask(scope: Scope, taskId: string): Promise<TaskDto> {
  const [row] = await rowsOf<TaskDto>(scope, selectTask(scope.userId, taskId));
  if (!row) throw taskNotFound();
  return row;
}

const sameFieldsAsBefore = () =>
  new AppError(
    "CONFLICT",
    "This id is taken by another task (or was created with other fields); choose a new id",
  );

/**
 * What a create is asked to store, as a digest: a retried create (same client-chosen id) must
 * carry the same, whatever happened to the task since.
 */
function createDigest(
  fields: Omit<TaskDto, "id" | "completedAt" | "createdAt" | "updatedAt" | "version">,
) {
  const canonical = JSON.stringify([
    fields.title,
    fields.description,
    fields.priority,
    fields.dueAt,
    fields.completed,
  ]);
  return createHash("sha256").update(canonical).digest().subarray(0, 16);
}

/**
 * Creates a task, with the client's id when it chose one. The same id again with the same fields
 * creates nothing and answers the task as it is now (a retried create); with other fields, or an
 * id anyone else holds, CONFLICT with the same words, so nothing tells another user's id apart.
 */
export async function createTask(scope: Scope, input: TaskCreate): Promise<TaskDto> {
  const { userId } = scope;
  const fields = {
    title: input.title,
    description: input.description ?? TASK_DEFAULTS.description,
    priority: input.priority ?? TASK_DEFAULTS.priority,
    dueAt: input.dueAt ?? TASK_DEFAULTS.dueAt,
    completed: input.completed ?? TASK_DEFAULTS.completed,
  };
  const digest =
    input.id === undefined
      ? null
      : createDigest({ ...fields, dueAt: fields.dueAt?.toISOString() ?? null });
  const id = input.id ?? randomUUID();
  // The subject's first write creates its users row, and with it the Inbox (once per process;
  // later a cache hit).
  await ensureUser(scope);
  // Where the task goes, then the insert; undefined when the caller has no Inbox (no users row).
  const insert = async () => {
    const [place] = await rowsOf<{ listId: string; first: string | null }>(
      scope,
      inboxFirstPlace(userId),
    );
    if (!place) return undefined;
    // A new task goes first, before the Inbox's current first top-level task.
    const statement = insertTask({
      id,
      userId,
      listId: place.listId,
      position: generateKeyBetween(null, place.first),
      ...fields,
      createDigest: digest,
    });
    return rowsOf<TaskDto>(scope, statement);
  };
  let inserted: TaskDto[] | undefined;
  try {
    inserted = await insert();
  } catch (error) {
    // The users row (and so the Inbox) vanished between the two statements.
    if (!isForeignKeyViolation(error) || scope.tx) throw error;
  }
  if (inserted === undefined && !scope.tx) {
    // The users row vanished behind the cache (a reset database): recreate it once.
    await recreateUser(scope);
    inserted = await insert();
  }
  if (inserted === undefined) throw new Error("The caller has no Inbox");
  const [created] = inserted;
  if (created) return created;
  // The id was taken: by this very create before (answer the task), or by something else.
  const [existing] = await rowsOf<
    TaskDto & { mine: boolean; deleted: boolean; sameCreate: boolean }
  >(scope, existingTask(userId, id, digest));
  if (!existing?.mine || !existing.sameCreate) throw sameFieldsAsBefore();
  if (existing.deleted) {
    throw new AppError(
      "CONFLICT",
      "The task created with this id was deleted since; choose a new id",
    );
  }
  const { mine: _mine, deleted: _deleted, sameCreate: _same, ...task } = existing;
  return task;
}

const MAX_ATTEMPTS = 5;

/** How a stale expected version is answered: CONFLICT, or PRECONDITION_FAILED for If-Match. */
export type StaleCode = "CONFLICT" | "PRECONDITION_FAILED";

const staleVersion = (code: StaleCode = "CONFLICT") =>
  code === "CONFLICT"
    ? new AppError("CONFLICT", "Task was changed since that version; reload it and retry")
    : new AppError("PRECONDITION_FAILED", "If-Match does not match the task's ETag");

type Editable = Pick<TaskDto, "title" | "description" | "priority" | "completed"> & {
  dueAt: Date | string | null;
};

/**
 * Read-modify-write of one task, guarded by its version so that concurrent changes are never lost:
 * the write applies only if nobody changed the task since it was read. With `expectedVersion` a
 * stale caller gets CONFLICT; without it, the change is re-applied to the fresh row.
 * `change` returns the new editable fields, or null when nothing needs writing.
 */
async function mutateTask(
  scope: Scope,
  {
    taskId,
    expectedVersion,
    staleCode,
    change,
  }: {
    taskId: string;
    expectedVersion?: number;
    staleCode?: StaleCode;
    change: (current: TaskDto) => Editable | null;
  },
): Promise<TaskDto> {
  const { userId } = scope;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [current] = await rowsOf<TaskDto>(scope, selectTask(userId, taskId));
    if (!current) throw taskNotFound();
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw staleVersion(staleCode);
    }
    const fields = change(current);
    if (fields === null) return current;
    const statement = updateTaskStatement(userId, taskId, current.version, fields);
    const [row] = await rowsOf<TaskDto>(scope, statement);
    if (row) return row;
    // Changed or deleted since it was read; the next round decides which.
  }
  throw new AppError("CONFLICT", "Task is being changed concurrently; retry");
}

const editable = (task: TaskDto): Editable => ({
  title: task.title,
  description: task.description,
  priority: task.priority,
  dueAt: task.dueAt,
  completed: task.completed,
});

export async function updateTask(
  scope: Scope,
  input: TaskUpdate,
  staleCode?: StaleCode,
): Promise<TaskDto> {
  const { id, version, ...changes } = input;
  return mutateTask(scope, {
    taskId: id,
    expectedVersion: version,
    staleCode,
    change: (current) => {
      const next = editable(current);
      for (const key of Object.keys(next) as (keyof Editable)[]) {
        if (changes[key] !== undefined) Object.assign(next, { [key]: changes[key] });
      }
      return next;
    },
  });
}

export async function setTaskCompleted(
  scope: Scope,
  taskId: string,
  completed: boolean,
): Promise<TaskDto> {
  return mutateTask(scope, {
    taskId,
    change: (current) =>
      current.completed === completed ? null : { ...editable(current), completed },
  });
}

/**
 * One statement (sql.ts): concurrent toggles of one task queue on its row lock, so none is lost
 * and none needs the read-and-retry of mutateTask (which, under contention, could give up with
 * CONFLICT).
 */
/** What a change to one task may require: its version, and how a stale one is answered. */
export type Expectation = { version?: number; staleCode?: StaleCode };

export async function toggleTask(
  scope: Scope,
  taskId: string,
  { version, staleCode }: Expectation = {},
): Promise<TaskDto> {
  const [row] = await rowsOf<TaskDto>(
    scope,
    toggleStatement(scope.userId, taskId, version ?? null),
  );
  if (row) return row;
  return missingOrStale(scope, taskId, { version, staleCode });
}

/** Nothing matched: a stale version when the caller still has the task, else not found. */
async function missingOrStale(
  scope: Scope,
  taskId: string,
  { version, staleCode }: Expectation,
): Promise<never> {
  if (version !== undefined && (await rowsOf(scope, taskExists(scope.userId, taskId))).length > 0) {
    throw staleVersion(staleCode);
  }
  throw taskNotFound();
}

/** Deletes a task: it leaves every read, and stays in the change feed as a tombstone. */
export async function deleteTask(
  scope: Scope,
  taskId: string,
  { version, staleCode }: Expectation = {},
): Promise<{ id: string }> {
  const [deleted] = await rowsOf<{ id: string }>(
    scope,
    deleteTaskStatement(scope.userId, taskId, version ?? null),
  );
  if (deleted) return deleted;
  return missingOrStale(scope, taskId, { version, staleCode });
}

/** Deletes every completed task of the caller, in one statement; how many. */
export async function clearCompleted(scope: Scope): Promise<{ count: number }> {
  return { count: await countOf(scope, clearCompletedStatement(scope.userId)) };
}

/** Counts of the caller's tasks; overdue means open with a due date in the past. */
export async function getTaskStats(scope: Scope): Promise<TaskStats> {
  const [stats] = await rowsOf<TaskStats>(scope, taskStatsStatement(scope.userId));
  return stats ?? { total: 0, open: 0, completed: 0, overdue: 0 };
}

type ChangeRow = TaskDto & {
  purgedXid: string;
  purgedId: string;
  xmin: string;
  xmax: string;
  withheld: boolean;
  xid: string | null;
  deleted: boolean;
};

/** A change with its own position in the feed (where a reader that has seen it stands). */
export type PositionedChange = { position: FeedPosition; change: TaskChange };

/** What one read of the feed found after a position. */
export type FeedRead = {
  found: PositionedChange[];
  hasMore: boolean;
  /** The feed position of the user's newest purged tombstone. */
  horizon: FeedPosition;
  /** Where a reader starting now stands: after everything committed before this read. */
  now: FeedPosition;
  /** Changes after the position exist but are held back (a transaction older is still running). */
  withheld: boolean;
  /** No transaction at or past this has begun: a cursor naming one is from another database. */
  xmax: string;
};

const LAST_ID = "ffffffff-ffff-ffff-ffff-ffffffffffff";

/** Reads up to `limit` changes after `after` (see changesStatement). */
export async function readChanges(
  scope: Scope,
  after: FeedPosition,
  limit: number,
): Promise<FeedRead> {
  const rows = await rowsOf<ChangeRow>(scope, changesStatement(scope.userId, after, limit + 1));
  const first = rows[0] as ChangeRow;
  const found = rows
    .filter((row) => row.xid !== null)
    .map(
      ({
        purgedXid: _x,
        purgedId: _i,
        xmin: _m,
        xmax: _n,
        withheld: _w,
        xid,
        deleted,
        ...task
      }) => ({
        position: { xid: xid as string, id: task.id },
        change: { id: task.id, deleted, task: deleted ? null : task },
      }),
    );
  return {
    found: found.slice(0, limit),
    hasMore: found.length > limit,
    horizon: { xid: first.purgedXid, id: first.purgedId },
    now: { xid: (BigInt(first.xmin) - 1n).toString(), id: LAST_ID },
    withheld: first.withheld,
    xmax: first.xmax,
  };
}

/**
 * Whether a cursor may be used: one naming a transaction this database has not begun is from
 * elsewhere (another database, a restore) and BAD_REQUEST; an incremental one (not a full sync's)
 * before the purge horizon is GONE.
 */
export function checkCursor(since: FeedCursor, read: Pick<FeedRead, "horizon" | "xmax">): void {
  if (BigInt(since.xid) >= BigInt(read.xmax)) {
    throw new AppError(
      "BAD_REQUEST",
      "Invalid cursor: it is not from this server's feed; sync again from scratch (no since)",
    );
  }
  if (!since.fullSync && isBefore(since, read.horizon)) {
    throw new AppError(
      "GONE",
      "This cursor is older than the retained deletions: sync again from scratch (no since)",
    );
  }
}

/**
 * One page of the caller's change feed: every task changed after `since`, once, in its latest
 * state (a tombstone when deleted), in commit-safe order (see changesStatement).
 *
 * Purged tombstones leave a horizon: the feed position of the newest one. A cursor of an
 * incremental sync before it may have missed a deletion and is GONE (the client syncs from
 * scratch). The pages of a full sync carry a flag instead, as they may sit before the horizon
 * (old live tasks) and miss nothing a full sync needs; its last page ends at or after the horizon.
 */
export async function listChanges(scope: Scope, input: TaskChangesInput): Promise<TaskChanges> {
  const since = input.since ? decodeFeedCursor(input.since) : undefined;
  const read = await readChanges(scope, since ?? FEED_START, input.limit);
  if (since) checkCursor(since, read);
  const { found, hasMore, horizon } = read;
  const changes = found.map((f) => f.change);
  const last = found.at(-1);
  // Nothing new for an incremental sync: the very cursor it came with.
  if (input.since && since && !since.fullSync && !last) {
    return { changes, nextCursor: input.since, hasMore };
  }
  const reached = last?.position ?? since ?? FEED_START;
  const fullSync = since ? since.fullSync : true;
  const nextCursor = hasMore
    ? encodeFeedCursor({ ...reached, fullSync })
    : // Caught up: every row up to here was read, so the cursor may stand at the horizon.
      encodeFeedCursor({ ...(isBefore(reached, horizon) ? horizon : reached), fullSync: false });
  return { changes, nextCursor, hasMore };
}

/** How one batch operation runs: the domain function its `op` names. */
function runOp(scope: Scope, op: TaskBatchOp): Promise<TaskDto | null> {
  switch (op.op) {
    case "create": {
      const { op: _op, ...input } = op;
      return createTask(scope, input);
    }
    case "update": {
      const { op: _op, ...input } = op;
      return updateTask(scope, input);
    }
    case "setCompleted":
      return setTaskCompleted(scope, op.id, op.completed);
    case "delete":
      return deleteTask(scope, op.id, { version: op.version }).then(() => null);
  }
}

const opId = (op: TaskBatchOp) => ("id" in op && op.id !== undefined ? op.id : null);

/**
 * Runs operations in order. Atomic: one transaction, all or nothing; the first failure rolls
 * everything back and is the answer, naming the operation's index. Otherwise each operation is its
 * own unit and answers for itself. Later operations see what earlier ones did (a client-chosen id
 * created first can be updated next).
 */
export async function runBatch(scope: Scope, input: TaskBatchInput): Promise<TaskBatchResult[]> {
  if (input.atomic) {
    return inTransaction(scope, async (tx) => {
      const results: TaskBatchResult[] = [];
      for (const [index, op] of input.ops.entries()) {
        try {
          const task = await runOp({ ...scope, ...tx }, op);
          results.push({ ok: true, id: task?.id ?? (opId(op) as string), task });
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          throw new AppError(error.code, `Operation ${index} (${op.op}): ${error.message}`, {
            cause: error,
            details: { index },
          });
        }
      }
      return results;
    });
  }
  const results: TaskBatchResult[] = [];
  for (const op of input.ops) {
    try {
      const task = await inTransaction(scope, (tx) => runOp({ ...scope, ...tx }, op));
      results.push({ ok: true, id: task?.id ?? (opId(op) as string), task });
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      results.push({
        ok: false,
        id: opId(op),
        error: { code: error.code, message: error.message },
      });
    }
  }
  return results;
}

/**
 * Purges tombstones older than the retention, in bounded batches, by one server instance at a time
 * (a transaction-level advisory lock; the others skip this round). How many were purged.
 */
export async function purgeTombstones(
  on: Executor,
  { retentionDays, batch = 1_000 }: { retentionDays: number; batch?: number },
): Promise<number> {
  return purgeInBatches(
    on,
    purgeLock,
    (size) => purgeTombstonesStatement(retentionDays, size),
    batch,
  );
}
