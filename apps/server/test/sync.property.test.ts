// Offline-first sync, as two devices of one user live it. Device A works offline on a local model:
// random creates (ids it chooses), updates, completions and deletes of its own tasks, queued in an
// outbox and flushed as atomic batches over either surface, each batch sent twice under one
// Idempotency-Key (the first answer "lost"; sometimes both copies at once), now and then with a
// failing operation at the end that must leave nothing applied. Device B meanwhile writes its own
// tasks with plain calls. Both page the change feed throughout and rebuild their state from it;
// at the end both must hold exactly the server's tasks, and the tasks exactly what A and B did.
import type { AppRouter } from "@todo/api/router";
import type { TaskBatchResult, TaskDto } from "@todo/api/task/schemas";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type HttpResult,
  newUser,
  outcome,
  rest,
  startServer,
  type TestServer,
  type TestUser,
  trpcClient,
} from "./harness.ts";
import { onlyTasks, type TaskOnlyChange } from "./support/feed.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** How long a device's final catch-up may wait for rows withheld behind running transactions. */
const CATCH_UP_DEADLINE_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Fields, as the model holds them and as they go on the wire ----

type Priority = "low" | "medium" | "high";
/** A task's editable fields, as the server answers them (dates as ISO 8601 in UTC). */
type Fields = {
  title: string;
  description: string | null;
  priority: Priority;
  dueAt: string | null;
  completed: boolean;
};
/** Absolute values for some fields, as sent (a due date may carry any offset). */
type Edit = Partial<Fields>;
type CreateFields = Edit & { title: string };

const DEFAULTS: Omit<Fields, "title"> = {
  description: null,
  priority: "medium",
  dueAt: null,
  completed: false,
};

/** What the server makes of an edit: titles trimmed, dates in UTC. */
function applyEdit(fields: Fields, edit: Edit): Fields {
  const next = { ...fields };
  if (edit.title !== undefined) next.title = edit.title.trim();
  if (edit.description !== undefined) next.description = edit.description;
  if (edit.priority !== undefined) next.priority = edit.priority;
  if (edit.dueAt !== undefined) {
    next.dueAt = edit.dueAt === null ? null : new Date(edit.dueAt).toISOString();
  }
  if (edit.completed !== undefined) next.completed = edit.completed;
  return next;
}

const created = (fields: CreateFields): Fields => applyEdit({ ...DEFAULTS, title: "" }, fields);

const editable = (task: TaskDto): Fields => ({
  title: task.title,
  description: task.description,
  priority: task.priority,
  dueAt: task.dueAt,
  completed: task.completed,
});

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const sortedJson = (tasks: Iterable<TaskDto>) => JSON.stringify([...tasks].sort(byId));

// ---- Arbitraries ----

const title = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 10 }),
  )
  .filter((s) => /^[^\p{Cc}]*\S[^\p{Cc}]*$/u.test(s) && s.isWellFormed());
/** Tabs and line breaks are fine in a description; no other control character. */
const allowedInText = (s: string) =>
  s.isWellFormed() &&
  [...s].every((c) => {
    const code = c.codePointAt(0) as number;
    return code === 9 || code === 10 || code === 13 || (code >= 0x20 && code !== 0x7f);
  });
const description = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.string({ unit: "grapheme", maxLength: 6 }),
      fc.constantFrom("\n", "\t", "\r\n", " "),
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join(""))
  .filter(allowedInText);
const priority = fc.constantFrom<Priority>("low", "medium", "high");
/** An instant at any of a few offsets: the server answers it in UTC. */
const dueAt = fc
  .tuple(
    fc.date({
      min: new Date("1990-01-01T00:00:00Z"),
      max: new Date("2100-01-01T00:00:00Z"),
      noInvalidDate: true,
    }),
    fc.constantFrom(0, 60, -300, 330, 840),
  )
  .map(([date, offset]) => {
    if (offset === 0) return date.toISOString();
    const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
    const abs = Math.abs(offset);
    const hh = String(Math.floor(abs / 60)).padStart(2, "0");
    const mm = String(abs % 60).padStart(2, "0");
    return `${local}${offset < 0 ? "-" : "+"}${hh}:${mm}`;
  });
const fieldArbitraries = {
  title,
  description: fc.option(description, { nil: null }),
  priority,
  dueAt: fc.option(dueAt, { nil: null }),
  completed: fc.boolean(),
};
const createFields: fc.Arbitrary<CreateFields> = fc.record(fieldArbitraries, {
  requiredKeys: ["title"],
});
const edit: fc.Arbitrary<Edit> = fc
  .record(fieldArbitraries, { requiredKeys: [] })
  .filter((e) => Object.keys(e).length > 0);
const pick = fc.nat({ max: 1_000 });
const viaRest = fc.boolean();
const sync = fc.record({
  kind: fc.constant("sync" as const),
  viaRest,
  limit: fc.integer({ min: 1, max: 8 }),
  pages: fc.integer({ min: 1, max: 3 }),
});
type SyncCmd = { kind: "sync"; viaRest: boolean; limit: number; pages: number };

type Flush = {
  kind: "flush";
  viaRest: boolean;
  /** Both copies at once (else one after the other). */
  concurrent: boolean;
  /** Operations per batch. */
  chunk: number;
  /** A failing operation appended first: the batch must fail whole, then is sent without it. */
  poison: "none" | "missing" | "taken";
  /** `atomic: true` spelled out, or left to its default. */
  explicitAtomic: boolean;
};
type ACmd =
  | { kind: "create"; fields: CreateFields }
  | { kind: "update"; pick: number; edit: Edit }
  | { kind: "setCompleted"; pick: number; completed: boolean }
  | { kind: "delete"; pick: number }
  | Flush
  | SyncCmd;

const aCmd: fc.Arbitrary<ACmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("create" as const), fields: createFields }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("update" as const), pick, edit }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("setCompleted" as const),
      pick,
      completed: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), pick }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("flush" as const),
      viaRest,
      concurrent: fc.boolean(),
      chunk: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(100)),
      poison: fc.constantFrom("none", "none", "none", "missing", "taken"),
      explicitAtomic: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: sync },
);

type BCmd =
  | { kind: "create"; viaRest: boolean; clientId: boolean; fields: CreateFields }
  | { kind: "update"; viaRest: boolean; pick: number; edit: Edit }
  | { kind: "replace"; viaRest: boolean; pick: number; fields: CreateFields }
  | { kind: "toggle"; viaRest: boolean; pick: number }
  | { kind: "setCompleted"; pick: number; completed: boolean }
  | { kind: "delete"; viaRest: boolean; pick: number }
  /** The create of a task with a client-chosen id again: the same, or with other fields. */
  | { kind: "recreate"; viaRest: boolean; pick: number; same: boolean }
  | SyncCmd;

const bCmd: fc.Arbitrary<BCmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      viaRest,
      clientId: fc.boolean(),
      fields: createFields,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("update" as const), viaRest, pick, edit }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("replace" as const),
      viaRest,
      pick,
      fields: createFields,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("toggle" as const), viaRest, pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("setCompleted" as const),
      pick,
      completed: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), viaRest, pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("recreate" as const),
      viaRest,
      pick,
      same: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: sync },
);

// ---- What the run exercised, checked at the end ----

const stats = {
  runs: 0,
  flushes: { rest: 0, trpc: 0 },
  concurrentFlushes: 0,
  replays: 0,
  /** Second copies refused with 409 because the first still ran, then retried. */
  stillRunning: 0,
  poisoned: 0,
  pages: 0,
  tombstonesSeen: 0,
  bWrites: 0,
  recreates: 0,
};

// ---- The change feed, as a device pages it ----

type Change = TaskOnlyChange;
type FeedPage = { changes: Change[]; nextCursor: string; hasMore: boolean };

async function feedPage(
  user: TestUser,
  viaRest: boolean,
  since: string | undefined,
  limit: number,
): Promise<FeedPage> {
  if (!viaRest)
    return onlyTasks(await trpcClient(server, user.auth).task.changes.query({ since, limit }));
  const query = new URLSearchParams({ limit: String(limit) });
  if (since !== undefined) query.set("since", since);
  const result = await rest(server, "GET", `/api/${user.id}/tasks/changes?${query}`, {
    auth: user.auth,
  });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return onlyTasks({
    changes: result.body.data,
    nextCursor: result.body.meta.nextCursor,
    hasMore: result.body.meta.hasMore,
  });
}

/** A device's replica, rebuilt from the feed alone. */
class Replica {
  since: string | undefined;
  /** The last page said there was nothing more. */
  caughtUp = false;
  readonly tasks = new Map<string, TaskDto>();
  readonly tombstones = new Set<string>();

  constructor(
    readonly name: string,
    private readonly user: TestUser,
  ) {}

  async page(viaRest: boolean, limit: number): Promise<FeedPage> {
    const page = await feedPage(this.user, viaRest, this.since, limit);
    stats.pages++;
    expect(page.changes.length).toBeLessThanOrEqual(limit);
    if (page.hasMore) expect(page.changes.length).toBe(limit);
    const ids = page.changes.map((change) => change.id);
    expect(new Set(ids).size, `${this.name}: a page lists an id twice: ${ids}`).toBe(ids.length);
    for (const change of page.changes) {
      // Ids are never reused: nothing comes back from a deletion.
      expect(this.tombstones.has(change.id), `${change.id} came back`).toBe(false);
      if (change.deleted) {
        expect(change.task).toBeNull();
        this.tasks.delete(change.id);
        this.tombstones.add(change.id);
        stats.tombstonesSeen++;
        continue;
      }
      const task = change.task as TaskDto;
      expect(task.id).toBe(change.id);
      const before = this.tasks.get(task.id);
      // Shown again only when changed again.
      if (before) expect(task.version).toBeGreaterThan(before.version);
      this.tasks.set(task.id, task);
    }
    // Caught up before, and nothing new: the very same cursor back.
    if (this.caughtUp && page.changes.length === 0) expect(page.nextCursor).toBe(this.since);
    this.caughtUp = !page.hasMore;
    this.since = page.nextCursor;
    return page;
  }

  /** Up to `pages` pages, while there are more. */
  async sync({ viaRest, limit, pages }: SyncCmd): Promise<void> {
    for (let n = 0; n < pages; n++) {
      if (!(await this.page(viaRest, limit)).hasMore) return;
    }
  }

  /**
   * Pages until nothing more is ready and the replica equals `server`. Rows of transactions still
   * running anywhere on the cluster are withheld a while; a change the cursor passed unseen never
   * shows again, so waiting cannot hide a lost one.
   */
  async catchUp(viaRest: boolean, limit: number, server: Map<string, TaskDto>): Promise<void> {
    const deadline = Date.now() + CATCH_UP_DEADLINE_MS;
    const want = sortedJson(server.values());
    for (;;) {
      if ((await this.page(viaRest, limit)).hasMore) continue;
      if (sortedJson(this.tasks.values()) === want || Date.now() > deadline) return;
      await sleep(20);
    }
  }
}

// ---- Device A's batches, each sent twice under one key ----

type BatchOp = Record<string, unknown> & { op: string };
type Answer = {
  status: number;
  replayed: boolean;
  results?: TaskBatchResult[];
  code?: string;
  index?: number;
};

async function sendBatch(
  user: TestUser,
  flush: Flush,
  ops: BatchOp[],
  key: string,
): Promise<Answer> {
  const input = flush.explicitAtomic ? { ops, atomic: true } : { ops };
  if (flush.viaRest) {
    const result: HttpResult = await rest(server, "POST", `/api/${user.id}/tasks/batch`, {
      auth: user.auth,
      body: input,
      headers: { "idempotency-key": key },
    });
    const replayed = result.headers.get("idempotent-replayed") === "true";
    if (result.status === 200) return { status: 200, replayed, results: result.body.data };
    const { code, index } = result.body.error;
    return { status: result.status, replayed, code, index };
  }
  let replayed = false;
  const api = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.baseUrl}/trpc`,
        headers: () => ({ authorization: user.auth, "idempotency-key": key }),
        fetch: async (url, init) => {
          const response = await fetch(url, init as RequestInit);
          replayed = response.headers.get("idempotent-replayed") === "true";
          return response;
        },
      }),
    ],
  });
  try {
    const { results } = await api.task.batch.mutate(input as never);
    return { status: 200, replayed, results };
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    const data = error.data as { httpStatus: number; code: string; index?: number };
    return { status: data.httpStatus, replayed, code: data.code, index: data.index };
  }
}

/** The batch's 409 while its first copy still runs (not an operation's 409: that has an index). */
const stillRunning = (answer: Answer) => answer.status === 409 && answer.index === undefined;

/** Sends until the answer is not "still running", waiting a little between tries. */
async function sendSettled(user: TestUser, flush: Flush, ops: BatchOp[], key: string) {
  for (let attempt = 0; attempt < 500; attempt++) {
    const answer = await sendBatch(user, flush, ops, key);
    if (!stillRunning(answer)) return answer;
    stats.stillRunning++;
    await sleep(5);
  }
  throw new Error("the first copy never finished");
}

const withoutReplay = ({ replayed: _r, ...answer }: Answer) => answer;

/**
 * The batch twice under one fresh key; the answer the client keeps is the second's (the first is
 * "lost"). One after the other: the second is the replay. At once: one of them does the work and
 * the other, refused while it runs, gets the replay on a retry.
 */
async function sendTwice(user: TestUser, flush: Flush, ops: BatchOp[]): Promise<Answer> {
  const key = crypto.randomUUID();
  if (!flush.concurrent) {
    const first = await sendBatch(user, flush, ops, key);
    expect(first.replayed).toBe(false);
    const second = await sendBatch(user, flush, ops, key);
    expect(second.replayed, JSON.stringify(second)).toBe(true);
    expect(withoutReplay(second)).toEqual(withoutReplay(first));
    stats.replays++;
    return second;
  }
  stats.concurrentFlushes++;
  const [first, second] = await Promise.all([
    sendSettled(user, flush, ops, key),
    sendSettled(user, flush, ops, key),
  ]);
  expect([first.replayed, second.replayed].sort(), JSON.stringify([first, second])).toEqual([
    false,
    true,
  ]);
  expect(withoutReplay(second)).toEqual(withoutReplay(first));
  stats.replays++;
  return second;
}

// ---- One run ----

type Pending = { id: string; op: BatchOp; after: Fields | null };

/** Only the keys given, so that absent ones take their defaults. */
const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

async function run(aCmds: ACmd[], bCmds: BCmd[]): Promise<void> {
  stats.runs++;
  const user = newUser();
  const api = trpcClient(server, user.auth);
  const tasksPath = `/api/${user.id}/tasks`;
  const deviceA = new Replica("A", user);
  const deviceB = new Replica("B", user);
  /** Every id deleted on the server, by either device. */
  const deletedOnServer = new Set<string>();

  // Device A: local model and outbox. B's tasks are B's alone.
  const modelA = new Map<string, Fields>();
  let outbox: Pending[] = [];
  /** A's tasks as the server holds them: what the batches answered so far. */
  const flushedA = new Map<string, Fields>();

  const at = <T>(list: T[], n: number): T | undefined => list[n % Math.max(list.length, 1)];

  async function flush(cmd: Flush): Promise<void> {
    const pending = outbox;
    outbox = [];
    for (let start = 0; start < pending.length; start += cmd.chunk) {
      const chunk = pending.slice(start, start + cmd.chunk);
      const ops = chunk.map((entry) => entry.op);
      if (cmd.poison !== "none") {
        // A failing operation last: all the others ran in the same transaction, and must be gone.
        const taken = cmd.poison === "taken" ? chunk.find((e) => e.op.op === "create") : undefined;
        const poison: BatchOp = taken
          ? { op: "create", id: taken.id, title: `${crypto.randomUUID()} other fields` }
          : { op: "update", id: crypto.randomUUID(), title: "nobody's" };
        const failed = await sendTwice(user, cmd, [...ops, poison]);
        expect(failed).toMatchObject({
          status: taken ? 409 : 404,
          code: taken ? "CONFLICT" : "NOT_FOUND",
          index: ops.length,
        });
        stats.poisoned++;
        // Nothing of it was applied: its tasks are as the earlier batches left them.
        for (const id of new Set(chunk.map((entry) => entry.id))) {
          const before = flushedA.get(id);
          const read = await outcome(() => api.task.byId.query({ id }));
          if (before === undefined) expect(read.status, `${id} half-applied`).toBe(404);
          else expect(editable(read.data as TaskDto), `${id} half-applied`).toEqual(before);
        }
      }
      const answer = await sendTwice(user, cmd, ops);
      stats.flushes[cmd.viaRest ? "rest" : "trpc"]++;
      expect(answer.status, JSON.stringify(answer)).toBe(200);
      const results = answer.results as TaskBatchResult[];
      expect(results).toHaveLength(chunk.length);
      for (const [i, entry] of chunk.entries()) {
        const result = results[i] as TaskBatchResult;
        expect(result.id).toBe(entry.id);
        if (!result.ok) throw new Error(`operation ${i} failed: ${JSON.stringify(result)}`);
        if (entry.after === null) {
          expect(result.task).toBeNull();
          deletedOnServer.add(entry.id);
          flushedA.delete(entry.id);
        } else {
          flushedA.set(entry.id, entry.after);
          expect(result.task?.id).toBe(entry.id);
          expect(editable(result.task as TaskDto)).toEqual(entry.after);
        }
      }
    }
  }

  async function runA(): Promise<void> {
    for (const cmd of aCmds) {
      const live = [...modelA.keys()];
      switch (cmd.kind) {
        case "create": {
          const id = crypto.randomUUID();
          const after = created(cmd.fields);
          modelA.set(id, after);
          outbox.push({ id, op: { op: "create", id, ...defined(cmd.fields) }, after });
          break;
        }
        case "update": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const after = applyEdit(modelA.get(id) as Fields, cmd.edit);
          modelA.set(id, after);
          outbox.push({ id, op: { op: "update", id, ...defined(cmd.edit) }, after });
          break;
        }
        case "setCompleted": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const after = { ...(modelA.get(id) as Fields), completed: cmd.completed };
          modelA.set(id, after);
          outbox.push({ id, op: { op: "setCompleted", id, completed: cmd.completed }, after });
          break;
        }
        case "delete": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          modelA.delete(id);
          outbox.push({ id, op: { op: "delete", id }, after: null });
          break;
        }
        case "flush":
          await flush(cmd);
          break;
        case "sync":
          await deviceA.sync(cmd);
          break;
      }
    }
  }

  // Device B: plain calls, one at a time, each answer checked against B's model.
  const modelB = new Map<string, Fields>();
  /** B's creates with a client-chosen id, as first sent. */
  const creates: { id: string; fields: CreateFields }[] = [];

  async function expectTask(
    call: Promise<{ status: number; data?: unknown; code?: string }>,
    status: number,
    expected: Fields,
  ): Promise<TaskDto> {
    const result = await call;
    expect(result.status, JSON.stringify(result)).toBe(status);
    const task = result.data as TaskDto;
    expect(editable(task)).toEqual(expected);
    stats.bWrites++;
    return task;
  }
  const viaRestCall = async (method: string, path: string, body?: unknown) => {
    const result = await rest(server, method, path, { auth: user.auth, body });
    return { status: result.status, data: result.body?.data, code: result.body?.error?.code };
  };

  async function runB(): Promise<void> {
    for (const cmd of bCmds) {
      const live = [...modelB.keys()];
      switch (cmd.kind) {
        case "create": {
          const id = cmd.clientId ? crypto.randomUUID() : undefined;
          const body = { ...defined(cmd.fields), ...(id ? { id } : {}) };
          const expected = created(cmd.fields);
          const task = await expectTask(
            cmd.viaRest
              ? viaRestCall("POST", tasksPath, body)
              : outcome(() => api.task.create.mutate(body as never)),
            cmd.viaRest ? 201 : 200,
            expected,
          );
          if (id) {
            expect(task.id).toBe(id);
            creates.push({ id, fields: cmd.fields });
          }
          modelB.set(task.id, expected);
          break;
        }
        case "update": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const expected = applyEdit(modelB.get(id) as Fields, cmd.edit);
          await expectTask(
            cmd.viaRest
              ? viaRestCall("PATCH", `${tasksPath}/${id}`, defined(cmd.edit))
              : outcome(() => api.task.update.mutate({ id, ...defined(cmd.edit) } as never)),
            200,
            expected,
          );
          modelB.set(id, expected);
          break;
        }
        case "replace": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const expected = created(cmd.fields);
          await expectTask(
            cmd.viaRest
              ? viaRestCall("PUT", `${tasksPath}/${id}`, defined(cmd.fields))
              : outcome(() => api.task.replace.mutate({ id, ...defined(cmd.fields) } as never)),
            200,
            expected,
          );
          modelB.set(id, expected);
          break;
        }
        case "toggle": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const before = modelB.get(id) as Fields;
          const expected = { ...before, completed: !before.completed };
          await expectTask(
            cmd.viaRest
              ? viaRestCall("PATCH", `${tasksPath}/${id}/complete`)
              : outcome(() => api.task.toggle.mutate({ id })),
            200,
            expected,
          );
          modelB.set(id, expected);
          break;
        }
        case "setCompleted": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const expected = { ...(modelB.get(id) as Fields), completed: cmd.completed };
          await expectTask(
            outcome(() => api.task.setCompleted.mutate({ id, completed: cmd.completed })),
            200,
            expected,
          );
          modelB.set(id, expected);
          break;
        }
        case "delete": {
          const id = at(live, cmd.pick);
          if (id === undefined) break;
          const result = cmd.viaRest
            ? await viaRestCall("DELETE", `${tasksPath}/${id}`)
            : await outcome(() => api.task.delete.mutate({ id }));
          expect(result).toMatchObject({ status: 200, data: { id } });
          stats.bWrites++;
          modelB.delete(id);
          deletedOnServer.add(id);
          break;
        }
        case "recreate": {
          const original = at(creates, cmd.pick);
          if (original === undefined) break;
          const fields = cmd.same
            ? original.fields
            : { ...original.fields, title: `${original.fields.title.trim()} (again)` };
          const body = { ...defined(fields), id: original.id };
          const call = cmd.viaRest
            ? viaRestCall("POST", tasksPath, body)
            : outcome(() => api.task.create.mutate(body as never));
          const current = modelB.get(original.id);
          stats.recreates++;
          if (cmd.same && current) {
            // A retried create: nothing created, the task answered as it is now.
            const task = await expectTask(call, cmd.viaRest ? 201 : 200, current);
            expect(task.id).toBe(original.id);
          } else {
            // Other fields, or the task deleted since: the id is not free.
            expect(await call).toMatchObject({ status: 409, code: "CONFLICT" });
          }
          break;
        }
        case "sync":
          await deviceB.sync(cmd);
          break;
      }
    }
  }

  // Both devices to the end, so that nothing of this run outlives it, failed or not.
  for (const settled of await Promise.allSettled([runA(), runB()])) {
    if (settled.status === "rejected") throw settled.reason;
  }
  // Whatever A still holds goes out, then both devices catch up.
  await flush({
    kind: "flush",
    viaRest: aCmds.length % 2 === 0,
    concurrent: false,
    chunk: 100,
    poison: "none",
    explicitAtomic: false,
  });

  const serverTasks = new Map<string, TaskDto>();
  let cursor: string | null = null;
  do {
    const page: { items: TaskDto[]; nextCursor: string | null } = await api.task.list.query({
      limit: 25,
      cursor,
    });
    for (const task of page.items) {
      expect(serverTasks.has(task.id)).toBe(false);
      serverTasks.set(task.id, task);
    }
    cursor = page.nextCursor;
  } while (cursor);

  // The server holds exactly what A and B did.
  const expected = [...modelA, ...modelB].map(([id, fields]) => ({ id, ...fields })).sort(byId);
  const actual = [...serverTasks.values()].map((t) => ({ id: t.id, ...editable(t) }));
  expect(actual.sort(byId)).toEqual(expected);
  expect(await api.task.stats.query()).toMatchObject({ total: serverTasks.size });

  // Each device, and a new one syncing from scratch, rebuilt exactly the server's tasks.
  const fresh = new Replica("fresh", user);
  const want = sortedJson(serverTasks.values());
  for (const [n, device] of [deviceA, deviceB, fresh].entries()) {
    await device.catchUp(n % 2 === 0, [100, 7, 3][n] as number, serverTasks);
    expect(
      [...device.tasks.values()].sort(byId),
      `${device.name}'s replica differs from the server`,
    ).toEqual([...serverTasks.values()].sort(byId));
    expect(sortedJson(device.tasks.values())).toBe(want);
  }
  // A full sync lists every deletion as a tombstone.
  expect([...fresh.tombstones].sort()).toEqual([...deletedOnServer].sort());

  // Deleted tasks are gone from every read.
  for (const id of [...deletedOnServer].slice(0, 2)) {
    expect((await rest(server, "GET", `${tasksPath}/${id}`, { auth: user.auth })).status).toBe(404);
    expect((await outcome(() => api.task.byId.query({ id }))).status).toBe(404);
  }
}

it("two devices, one offline with an outbox, converge on the server's state", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(aCmd, { minLength: 10, maxLength: 80, size: "medium" }),
      fc.array(bCmd, { minLength: 5, maxLength: 50, size: "medium" }),
      run,
    ),
    // Bounded in time as well as in runs; a failure found is still reported (shrunk so far).
    { numRuns: 100, interruptAfterTimeLimit: 45_000 },
  );
  // The runs exercised what they are about.
  expect(stats.runs).toBeGreaterThanOrEqual(10);
  expect(stats.flushes.rest).toBeGreaterThan(10);
  expect(stats.flushes.trpc).toBeGreaterThan(10);
  expect(stats.concurrentFlushes).toBeGreaterThan(5);
  expect(stats.stillRunning).toBeGreaterThan(0);
  expect(stats.replays).toBeGreaterThan(20);
  expect(stats.poisoned).toBeGreaterThan(2);
  expect(stats.tombstonesSeen).toBeGreaterThan(5);
  expect(stats.recreates).toBeGreaterThan(2);
}, 90_000);
