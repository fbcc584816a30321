import { createHash, randomUUID } from "node:crypto";
import { generateKeyBetween } from "fractional-indexing";
import {
  AppError,
  type Expectation,
  listNotFound,
  type StaleCode,
  staleVersion,
  taskNotFound,
} from "../errors.ts";
import type { ListDto } from "../list/schemas.ts";
import { keyBetween, spread } from "../order.ts";
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
  type LabelCount,
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
  type TaskMove,
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
  labelCountsStatement,
  listStatements,
  lockLists,
  lockTaskForMove,
  moveTaskStatement,
  nextSibling,
  purgeLock,
  purgeTombstonesStatement,
  type Siblings,
  selectTask,
  setTaskPositions,
  siblingIds,
  taskExists,
  taskPlace,
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
  fields: Pick<TaskDto, "title" | "description" | "priority" | "dueAt" | "completed">,
  placement: Pick<TaskCreate, "listId" | "parentId" | "labels">,
) {
  const base = [fields.title, fields.description, fields.priority, fields.dueAt, fields.completed];
  // The fields added with lists only when given, so that a create retried across the upgrade
  // keeps its digest.
  const { listId, parentId, labels } = placement;
  const extra =
    listId || parentId || labels?.length ? [listId ?? null, parentId ?? null, labels ?? []] : [];
  const canonical = JSON.stringify([...base, ...extra]);
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
      : createDigest({ ...fields, dueAt: fields.dueAt?.toISOString() ?? null }, input);
  const id = input.id ?? randomUUID();
  const labels = input.labels ?? [];
  // The subject's first write creates its users row, and with it the Inbox (once per process;
  // later a cache hit).
  await ensureUser(scope);
  if (input.listId !== undefined || input.parentId !== undefined) {
    // Into a named list or under a parent: placed under the list's lock (see placeFirst).
    const inserted = await inTransaction(scope, async (inside) => {
      const tx = { ...scope, ...inside };
      const place = await placeFirst(tx, id, input.listId, input.parentId ?? null);
      const statement = insertTask({
        id,
        userId,
        ...place,
        labels,
        ...fields,
        createDigest: digest,
      });
      return rowsOf<TaskDto>(tx, statement);
    });
    return createdOrRetried(scope, inserted, id, digest);
  }
  // Where the task goes, then the insert; undefined when the caller has no Inbox (no users row).
  const insert = async () => {
    const [place] = await rowsOf<{ listId: string; first: string | null }>(
      scope,
      inboxFirstPlace(userId),
    );
    if (!place) return undefined;
    // A new task goes first, before the Inbox's current first top-level task. (No short key
    // before it only if keys were written by hand: the task then ties, and the next move into
    // the Inbox rebalances it; this hot path takes no list lock to rebalance under.)
    const statement = insertTask({
      id,
      userId,
      listId: place.listId,
      parentId: null,
      position: keyBetween(null, place.first) ?? generateKeyBetween(null, null),
      labels,
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
  return createdOrRetried(scope, inserted, id, digest);
}

/**
 * A create's answer: the task it inserted, else (the id was taken) the task this very create made
 * before, else CONFLICT.
 */
async function createdOrRetried(
  scope: Scope,
  inserted: TaskDto[],
  id: string,
  digest: Buffer | null,
): Promise<TaskDto> {
  const { userId } = scope;
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

type Place = Siblings & { position: string };

const badPlace = (message: string) => new AppError("BAD_REQUEST", message);
const changedMeanwhile = () =>
  new AppError("CONFLICT", "The task or its new place changed meanwhile; retry");

/** One of the caller's live tasks, where it sits; `what` names it in the 404. */
async function placeOf(tx: Scope, taskId: string, what: string, lock = false): Promise<Place> {
  const [place] = await rowsOf<Place>(tx, taskPlace(tx.userId, taskId, lock));
  if (!place) throw new AppError("NOT_FOUND", `${what}: task not found`);
  return place;
}

/** A parent must be a top-level task (one level of subtasks). */
function checkParent(parent: Place, listId: string | undefined): void {
  if (parent.parentId !== null) {
    throw badPlace("parentId: subtasks are one level deep; the parent must be a top-level task");
  }
  if (listId !== undefined && listId !== parent.listId) {
    throw badPlace("parentId: the parent task is in another list than listId");
  }
}

type Keyed = { id: string; position: string };

/** Whether `a` sorts before `b` among siblings: by key, then id (as the index orders them). */
const before = (a: Keyed, b: Keyed) =>
  a.position < b.position || (a.position === b.position && a.id < b.id);

/**
 * A key for a task placed right after `after` (null: first) in a sibling group locked by the
 * caller, leaving out `moving`; when no short key is left there, the group is rebalanced. Null
 * when `moving` (given with its key when it is in this group already) is in that place already.
 */
async function taskKey(
  tx: Scope,
  group: Siblings,
  after: Keyed | null,
  moving: { id: string; inGroup?: Keyed },
): Promise<string | null> {
  const [next] = await rowsOf<Keyed>(tx, nextSibling(tx.userId, group, after, moving.id));
  const here = moving.inGroup;
  if (here && (!after || before(after, here)) && (!next || before(here, next))) return null;
  const key = keyBetween(after?.position ?? null, next?.position ?? null);
  if (key !== null) return key;
  const ids = (await rowsOf<{ id: string }>(tx, siblingIds(tx.userId, group, moving.id))).map(
    (r) => r.id,
  );
  const { keys, placed } = spread(ids, after?.id ?? null);
  await rowsOf(tx, setTaskPositions(tx.userId, ids, keys));
  return placed;
}

/**
 * Where a new task goes in a named list (else its parent's), first among its siblings: the list
 * locked (placements in it wait for each other; its deletion waits for them), the parent checked
 * and held (FOR SHARE) until the transaction ends.
 */
async function placeFirst(
  tx: Scope,
  newId: string,
  listId: string | undefined,
  parentId: string | null,
): Promise<Place> {
  const parent = parentId === null ? null : await placeOf(tx, parentId, "parentId");
  if (parent) checkParent(parent, listId);
  const group = { listId: parent?.listId ?? (listId as string), parentId };
  const [list] = await rowsOf<{ id: string }>(tx, lockLists(tx.userId, [group.listId]));
  if (!list) throw listNotFound();
  if (parentId !== null) {
    const held = await placeOf(tx, parentId, "parentId", true);
    if (held.listId !== group.listId || held.parentId !== null) throw changedMeanwhile();
  }
  // A new task is in no group yet: never "in place already".
  return { ...group, position: (await taskKey(tx, group, null, { id: newId })) as string };
}

/**
 * Moves a task right after `afterId` (null or omitted: first) among its new siblings (see
 * zTaskMoveFields for how the list and parent are chosen). One transaction: the lists involved are
 * locked first (as every placement and list deletion does), then the task, then its new parent;
 * the move writes only the task's row (its subtasks follow it to another list), unless the gap
 * has no short key left and the group is rebalanced, and nothing when the task is in that place
 * already.
 */
export async function moveTask(
  scope: Scope,
  input: TaskMove,
  staleCode?: StaleCode,
): Promise<TaskDto> {
  if (input.afterId === input.id) throw badPlace("afterId: a task cannot be placed after itself");
  if (input.parentId === input.id) throw badPlace("parentId: a task cannot be its own subtask");
  return inTransaction(scope, async (inside) => {
    const tx = { ...scope, ...inside };
    const { userId } = tx;
    // Read without locks, to learn which lists to lock; checked again once they are.
    const [from] = await rowsOf<Place>(tx, taskPlace(userId, input.id, false));
    if (!from) throw taskNotFound();
    const after = input.afterId ? await placeOf(tx, input.afterId, "afterId") : null;
    const to = await destination(tx, input, from, after);
    const locked = await rowsOf<{ id: string }>(tx, lockLists(userId, [from.listId, to.listId]));
    if (!locked.some((l) => l.id === to.listId)) throw listNotFound();
    const [task] = await rowsOf<Place & { version: number; hasSubtasks: boolean }>(
      tx,
      lockTaskForMove(userId, input.id),
    );
    if (!task) throw taskNotFound();
    if (input.version !== undefined && task.version !== input.version) {
      throw staleVersion("task", staleCode);
    }
    if (task.listId !== from.listId) throw changedMeanwhile();
    if (to.parentId !== null) {
      if (task.hasSubtasks) throw badPlace("A task with subtasks cannot become a subtask");
      const parent = await placeOf(tx, to.parentId, "parentId", true);
      if (parent.listId !== to.listId || parent.parentId !== null) throw changedMeanwhile();
    }
    let anchor: { id: string; position: string } | null = null;
    if (input.afterId && after) {
      const now = await placeOf(tx, input.afterId, "afterId");
      if (now.listId !== to.listId || now.parentId !== to.parentId) throw changedMeanwhile();
      anchor = { id: input.afterId, position: now.position };
    }
    const stays = task.listId === to.listId && task.parentId === to.parentId;
    const inGroup = stays ? { id: input.id, position: task.position } : undefined;
    const position = await taskKey(tx, to, anchor, { id: input.id, inGroup });
    // Already there: nothing to write (a retried move changes nothing, not even the version).
    if (position === null) return getTask(tx, input.id);
    const [moved] = await rowsOf<TaskDto>(
      tx,
      moveTaskStatement(userId, input.id, { ...to, position }),
    );
    if (!moved) throw taskNotFound();
    return moved;
  });
}

/** The list and parent a move goes to (see zTaskMoveFields). */
async function destination(
  tx: Scope,
  input: TaskMove,
  from: Place,
  after: Place | null,
): Promise<Siblings> {
  if (after) {
    if (input.listId !== undefined && input.listId !== after.listId) {
      throw badPlace("afterId: that task is in another list than listId");
    }
    if (input.parentId !== undefined && input.parentId !== after.parentId) {
      throw badPlace("afterId: that task has another parent than parentId");
    }
    return { listId: after.listId, parentId: after.parentId };
  }
  const stays = input.listId === undefined || input.listId === from.listId;
  const parentId = input.parentId !== undefined ? input.parentId : stays ? from.parentId : null;
  if (parentId === null) return { listId: input.listId ?? from.listId, parentId };
  const parent = await placeOf(tx, parentId, "parentId");
  checkParent(parent, input.listId);
  return { listId: parent.listId, parentId };
}

/** The caller's labels with how many live tasks carry each (ignoring case), by name. */
export async function listLabels(scope: Scope): Promise<LabelCount[]> {
  return rowsOf<LabelCount>(scope, labelCountsStatement(scope.userId));
}

const MAX_ATTEMPTS = 5;

type Editable = Pick<TaskDto, "title" | "description" | "priority" | "completed" | "labels"> & {
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
      throw staleVersion("task", staleCode);
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
  labels: task.labels,
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
    throw staleVersion("task", staleCode);
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

type ChangeRow = {
  purgedXid: string;
  purgedId: string;
  xmin: string;
  xmax: string;
  withheld: boolean;
  /** The change's columns: all null when there is none. */
  xid: string | null;
  changeId: string;
  kind: "task" | "list";
  deleted: boolean;
  data: TaskDto | ListDto | null;
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
    .map(({ xid, changeId: id, kind, deleted, data }) => ({
      position: { xid: xid as string, id },
      change:
        kind === "task"
          ? { kind, id, deleted, task: data as TaskDto | null }
          : { kind, id, deleted, list: data as ListDto | null },
    }));
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
    case "move": {
      const { op: _op, ...input } = op;
      return moveTask(scope, input);
    }
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
