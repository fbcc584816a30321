// The change feed under concurrent writers: 50 writers on one user, each owning one task and
// changing it again and again (single updates, updates under an Idempotency-Key, atomic and
// non-atomic batches of several updates), so that transactions overlap and commit out of order,
// while two readers page the feed without pause. A feed ordered by something assigned before
// commit (a sequence, or the writing transaction's id without the in-flight guard) lets a reader's
// cursor pass a change that commits later; the last change of a task lost that way is caught here.
import type { AppRouter } from "@todo/api/router";
import type { TaskBatchResult, TaskDto } from "@todo/api/task/schemas";
import { createTRPCClient, httpLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUser, rest, startServer, type TestServer, type TestUser } from "./harness.ts";
import { onlyTasks, type TaskOnlyChange } from "./support/feed.ts";

const WRITERS = 50;
const WRITES_PER_WRITER = 10;
/** How long the final catch-up may wait for rows withheld behind transactions still running. */
const CATCH_UP_DEADLINE_MS = 15_000;

let server: TestServer;
beforeAll(async () => {
  // A larger pool than the default: more writer transactions in flight at once.
  server = await startServer({ db: { poolMax: 20 } });
});
afterAll(() => server.close());

type Surface = "trpc" | "rest";
type Change = TaskOnlyChange;
type FeedPage = { changes: Change[]; nextCursor: string; hasMore: boolean };
type UpdateOp = { op: "update"; id: string; version?: number; title: string; completed?: boolean };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded generator: the writers' plans come from the seed a failure names. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function trpc(user: TestUser, key?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.baseUrl}/trpc`,
        headers: () => ({
          authorization: user.auth,
          ...(key === undefined ? {} : { "idempotency-key": key }),
        }),
      }),
    ],
  });
}

/** The REST body's data, after checking the status. */
async function restData(
  method: string,
  path: string,
  user: TestUser,
  options: { body?: unknown; key?: string; status?: number } = {},
) {
  const result = await rest(server, method, path, {
    auth: user.auth,
    body: options.body,
    headers: options.key === undefined ? {} : { "idempotency-key": options.key },
  });
  if (result.status !== (options.status ?? 200)) {
    throw new Error(`${method} ${path}: ${result.status} ${JSON.stringify(result.body)}`);
  }
  return result.body;
}

const tasksPath = (user: TestUser) => `/api/${user.id}/tasks`;

async function create(surface: Surface, user: TestUser, title: string): Promise<TaskDto> {
  if (surface === "trpc") return trpc(user).task.create.mutate({ title });
  return (await restData("POST", tasksPath(user), user, { body: { title }, status: 201 })).data;
}

async function update(
  surface: Surface,
  user: TestUser,
  { id, ...fields }: Omit<UpdateOp, "op">,
  key?: string,
): Promise<TaskDto> {
  if (surface === "trpc") return trpc(user, key).task.update.mutate({ id, ...fields });
  return (await restData("PATCH", `${tasksPath(user)}/${id}`, user, { body: fields, key })).data;
}

async function batch(
  surface: Surface,
  user: TestUser,
  ops: UpdateOp[],
  atomic: boolean,
  key?: string,
): Promise<TaskBatchResult[]> {
  if (surface === "trpc") return (await trpc(user, key).task.batch.mutate({ ops, atomic })).results;
  return (await restData("POST", `${tasksPath(user)}/batch`, user, { body: { ops, atomic }, key }))
    .data;
}

async function changes(
  surface: Surface,
  user: TestUser,
  since: string | undefined,
  limit: number,
): Promise<FeedPage> {
  if (surface === "trpc") return onlyTasks(await trpc(user).task.changes.query({ since, limit }));
  const query = new URLSearchParams({ limit: String(limit) });
  if (since !== undefined) query.set("since", since);
  const body = await restData("GET", `${tasksPath(user)}/changes?${query}`, user);
  return onlyTasks({
    changes: body.data,
    nextCursor: body.meta.nextCursor,
    hasMore: body.meta.hasMore,
  });
}

/** Every live task of the user, read through the list (tRPC), by id. */
async function serverTasks(user: TestUser): Promise<Map<string, TaskDto>> {
  const api = trpc(user);
  const tasks = new Map<string, TaskDto>();
  let cursor: string | null = null;
  do {
    const page: { items: TaskDto[]; nextCursor: string | null } = await api.task.list.query({
      limit: 100,
      cursor,
    });
    for (const task of page.items) tasks.set(task.id, task);
    cursor = page.nextCursor;
  } while (cursor);
  return tasks;
}

/** A device paging the feed: what it has seen, checked page by page. */
class Reader {
  since: string | undefined;
  /** The last page said there was nothing more. */
  caughtUp = false;
  readonly state = new Map<string, TaskDto>();
  readonly seenPairs = new Set<string>();
  pages = 0;
  pagesWhileWriting = 0;
  changesSeen = 0;

  constructor(
    private readonly surface: Surface,
    private readonly user: TestUser,
    private readonly limits: number[],
  ) {}

  async page(): Promise<FeedPage> {
    const limit = this.limits[this.pages % this.limits.length] as number;
    const page = await changes(this.surface, this.user, this.since, limit);
    this.pages++;
    expect(page.changes.length).toBeLessThanOrEqual(limit);
    // Within one page each task at most once.
    const ids = page.changes.map((change) => change.id);
    expect(new Set(ids).size, `page ${this.pages} lists an id twice: ${ids}`).toBe(ids.length);
    for (const change of page.changes) {
      // Nothing is deleted in this test: every change is a live task.
      expect(change.deleted).toBe(false);
      const task = change.task as TaskDto;
      expect(task.id).toBe(change.id);
      const pair = `${task.id}@${task.version}`;
      expect(this.seenPairs.has(pair), `${pair} seen twice`).toBe(false);
      this.seenPairs.add(pair);
      const before = this.state.get(task.id);
      if (before) expect(task.version, `${task.id} went back`).toBeGreaterThan(before.version);
      this.state.set(task.id, task);
      this.changesSeen++;
    }
    // Caught up before, and nothing new: the very same cursor back.
    if (this.caughtUp && page.changes.length === 0) expect(page.nextCursor).toBe(this.since);
    this.caughtUp = !page.hasMore;
    this.since = page.nextCursor;
    return page;
  }

  /** Pages while writers run; resolves once `stop()` says they are done. */
  async follow(stop: () => boolean): Promise<void> {
    while (!stop()) {
      const page = await this.page();
      this.pagesWhileWriting++;
      // Caught up for now: yield to the writers a moment rather than spin.
      if (!page.hasMore && page.changes.length === 0) await sleep(1);
    }
  }

  /**
   * Pages until nothing more is ready and it holds the server's versions. Rows of transactions
   * still in flight anywhere on the cluster are withheld for a while; a change the cursor passed
   * unseen never shows again, so waiting cannot hide a lost one.
   */
  async catchUp(final: Map<string, TaskDto>): Promise<void> {
    const deadline = Date.now() + CATCH_UP_DEADLINE_MS;
    for (;;) {
      const page = await this.page();
      if (page.hasMore) continue;
      const behind = [...final.values()].some((t) => this.state.get(t.id)?.version !== t.version);
      if (!behind || Date.now() > deadline) break;
      await sleep(25);
    }
    // Caught up: the next page is empty, with the same cursor.
    const before = this.since;
    const empty = await this.page();
    expect(empty).toEqual({ changes: [], nextCursor: before, hasMore: false });
  }
}

describe.each(["trpc", "rest"] as const)("the change feed over %s", (surface) => {
  it(`misses no change of ${WRITERS} concurrent writers and repeats none`, async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    const random = prng(seed);
    const user = newUser();
    // One reader near the head of the feed (large pages), one often behind it (small ones).
    const readers = [new Reader(surface, user, [2, 9, 4, 30]), new Reader(surface, user, [100])];
    let writing = true;
    const reading = Promise.allSettled(readers.map((reader) => reader.follow(() => !writing)));

    const expectedVersions = new Map<string, number>();
    const plans = Array.from({ length: WRITERS }, () => {
      // Each writer's sequence of writes: how many updates each carries, and how it is sent.
      return Array.from({ length: WRITES_PER_WRITER }, () => {
        const r = random();
        const kind =
          r < 0.3 ? "single" : r < 0.45 ? "keyed" : r < 0.85 ? "atomic" : ("separate" as const);
        const size = kind === "single" || kind === "keyed" ? 1 : 2 + Math.floor(random() * 5);
        return {
          kind,
          size,
          withKey:
            kind === "keyed" || ((kind === "atomic" || kind === "separate") && random() < 0.5),
          withVersion: random() < 0.5,
          pause: Math.floor(random() * 6),
        };
      });
    });

    const writers = plans.map(async (plan, w) => {
      const task = await create(surface, user, `writer ${w}`);
      expect(task.version).toBe(1);
      let version = task.version;
      for (const [n, write] of plan.entries()) {
        // Writers drift apart: their writes, and last writes, spread over the readers' pages.
        await sleep(write.pause);
        const ops: UpdateOp[] = Array.from({ length: write.size }, (_, k) => ({
          op: "update",
          id: task.id,
          title: `writer ${w} write ${n}.${k}`,
          ...(k % 2 === 1 ? { completed: (n + k) % 4 === 1 } : {}),
          ...(write.withVersion ? { version: version + k } : {}),
        }));
        if (write.kind === "single" || write.kind === "keyed") {
          const { op: _op, ...input } = ops[0] as UpdateOp;
          const key = write.withKey ? crypto.randomUUID() : undefined;
          const updated = await update(surface, user, input, key);
          expect(updated.version).toBe(version + 1);
        } else {
          const key = write.withKey ? crypto.randomUUID() : undefined;
          const results = await batch(surface, user, ops, write.kind === "atomic", key);
          expect(results.map((r) => (r.ok ? r.task?.version : r.error))).toEqual(
            ops.map((_, k) => version + k + 1),
          );
        }
        version += write.size;
      }
      expectedVersions.set(task.id, version);
    });
    const wrote = await Promise.allSettled(writers);
    writing = false;
    for (const settled of [...wrote, ...(await reading)]) {
      if (settled.status === "rejected") throw settled.reason;
    }

    const final = await serverTasks(user);
    expect(final.size).toBe(WRITERS);
    expect(new Map([...final.values()].map((t) => [t.id, t.version]))).toEqual(expectedVersions);
    for (const reader of readers) {
      await reader.catchUp(final);
      // The last version each reader saw of each task is the task's final version, and the
      // whole task is as the server holds it, byte for byte.
      const sortedJson = (tasks: Iterable<TaskDto>) =>
        JSON.stringify([...tasks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
      const lost = [...final.values()]
        .filter((t) => reader.state.get(t.id)?.version !== t.version)
        .map((t) => `${t.id}: last seen v${reader.state.get(t.id)?.version}, final v${t.version}`);
      expect(lost, `seed ${seed}`).toEqual([]);
      expect(sortedJson(reader.state.values())).toBe(sortedJson(final.values()));
    }
    // The readers really read while the writers wrote: many pages, and intermediate versions.
    for (const reader of readers) {
      expect(reader.pagesWhileWriting).toBeGreaterThan(10);
      expect(reader.changesSeen).toBeGreaterThan(WRITERS * 2);
    }
  });
});
