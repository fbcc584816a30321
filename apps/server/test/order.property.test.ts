// Manual order against a model: random sequences of creates, moves (within and across lists, in
// and out of parents), task deletions and list deletions, through the tRPC client; after each
// step the server's order of every sibling group equals the model's, read both from the task
// list's `sort: "position"` and from the keys of a plain listing.
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newUser, startServer, type TestServer, trpcClient } from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

type Client = ReturnType<typeof trpcClient>;

/** What the server should hold: lists in order, and each sibling group's ids in order. */
class Model {
  lists: string[] = [];
  /** Group key (`list:<id>` for a list's top level, `parent:<id>` for subtasks) → ids. */
  groups = new Map<string, string[]>();
  /** Each live task's list and parent. */
  where = new Map<string, { listId: string; parentId: string | null }>();

  static groupOf(listId: string, parentId: string | null): string {
    return parentId === null ? `list:${listId}` : `parent:${parentId}`;
  }

  members(group: string): string[] {
    return this.groups.get(group) ?? [];
  }

  insert(id: string, listId: string, parentId: string | null, afterId: string | null): void {
    const group = Model.groupOf(listId, parentId);
    const ids = this.members(group).filter((x) => x !== id);
    ids.splice(afterId === null ? 0 : ids.indexOf(afterId) + 1, 0, id);
    this.groups.set(group, ids);
    this.where.set(id, { listId, parentId });
  }

  remove(id: string): void {
    const at = this.where.get(id);
    if (!at) return;
    const group = Model.groupOf(at.listId, at.parentId);
    this.groups.set(
      group,
      this.members(group).filter((x) => x !== id),
    );
    this.where.delete(id);
  }

  /** Deletes a task and, if it is a parent, its subtasks. */
  deleteTask(id: string): void {
    for (const sub of this.members(`parent:${id}`)) this.where.delete(sub);
    this.groups.delete(`parent:${id}`);
    this.remove(id);
  }

  move(id: string, listId: string, parentId: string | null, afterId: string | null): void {
    this.remove(id);
    this.insert(id, listId, parentId, afterId);
    // Subtasks follow their parent to another list.
    for (const sub of this.members(`parent:${id}`)) this.where.set(sub, { listId, parentId: id });
  }

  topLevel(listId: string): string[] {
    return this.members(`list:${listId}`);
  }
}

type Step =
  | { kind: "create"; list: number; parent: number | null }
  | { kind: "move"; task: number; list: number; parent: number | null; after: number | null }
  | { kind: "delete"; task: number }
  | { kind: "deleteList"; list: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      list: fc.nat(9),
      parent: fc.option(fc.nat(9), { freq: 2 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("move" as const),
      task: fc.nat(99),
      list: fc.nat(9),
      parent: fc.option(fc.nat(9), { freq: 2 }),
      after: fc.option(fc.nat(9), { freq: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), task: fc.nat(99) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("deleteList" as const), list: fc.nat(9) }),
  },
);

const pick = <T>(items: T[], n: number): T | undefined =>
  items.length === 0 ? undefined : items[n % items.length];

/** Plays one step on the server and the model. */
async function play(api: Client, model: Model, s: Step): Promise<void> {
  if (s.kind === "create") {
    const listId = pick(model.lists, s.list) as string;
    const parentId = s.parent === null ? null : (pick(model.topLevel(listId), s.parent) ?? null);
    const task = await api.task.create.mutate({
      title: "t",
      listId,
      ...(parentId ? { parentId } : {}),
    });
    model.insert(task.id, listId, parentId, null);
    return;
  }
  if (s.kind === "delete") {
    const id = pick([...model.where.keys()], s.task);
    if (!id) return;
    await api.task.delete.mutate({ id });
    model.deleteTask(id);
    return;
  }
  if (s.kind === "deleteList") {
    const listId = pick(model.lists.slice(1), s.list);
    if (!listId) return;
    await api.list.delete.mutate({ id: listId });
    for (const [id, at] of model.where) if (at.listId === listId) model.where.delete(id);
    for (const [group, ids] of model.groups) {
      if (ids.every((id) => !model.where.has(id))) model.groups.delete(group);
    }
    model.lists = model.lists.filter((l) => l !== listId);
    return;
  }
  const id = pick([...model.where.keys()], s.task);
  if (!id) return;
  const listId = pick(model.lists, s.list) as string;
  const hasSubtasks = model.members(`parent:${id}`).length > 0;
  // A parent: a top-level task of the destination list other than the task itself, and only for
  // a task without subtasks (the server refuses the rest, as checked elsewhere).
  const candidates = model.topLevel(listId).filter((x) => x !== id);
  const parentId = s.parent === null || hasSubtasks ? null : (pick(candidates, s.parent) ?? null);
  const siblings = model.members(Model.groupOf(listId, parentId)).filter((x) => x !== id);
  const afterId = s.after === null ? null : (pick(siblings, s.after) ?? null);
  const moved = await api.task.move.mutate({ id, listId, parentId, afterId });
  expect(moved).toMatchObject({ id, listId, parentId });
  model.move(id, listId, parentId, afterId);
}

/** The server's sibling groups, from one plain listing sorted by key (and id on a tie). */
async function serverGroups(api: Client): Promise<Map<string, string[]>> {
  const page = await api.task.list.query({ limit: 100 });
  expect(page.nextCursor).toBeNull();
  const sorted = [...page.items].sort((a, b) =>
    a.position === b.position ? (a.id < b.id ? -1 : 1) : a.position < b.position ? -1 : 1,
  );
  const groups = new Map<string, string[]>();
  for (const task of sorted) {
    const group = Model.groupOf(task.listId, task.parentId);
    groups.set(group, [...(groups.get(group) ?? []), task.id]);
  }
  return groups;
}

/** One group as the position-ordered listing pages it (two at a time, through the cursor). */
async function pagedGroup(api: Client, listId: string, parentId: string | null) {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<Client["task"]["list"]["query"]>> = await api.task.list.query({
      ...(parentId === null ? { listId, parentId: null } : { parentId }),
      sort: "position",
      order: "asc",
      limit: 2,
      cursor,
    });
    ids.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

it("keeps every sibling group in the model's order through creates, moves and deletions", async () => {
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 30 }), async (sequence) => {
      const api = trpcClient(server, newUser().auth);
      const model = new Model();
      const [inbox] = await api.list.all.query();
      model.lists.push((inbox as { id: string }).id);
      for (const name of ["Work", "Home"])
        model.lists.push((await api.list.create.mutate({ name })).id);
      for (const s of sequence) {
        await play(api, model, s);
        steps++;
        const groups = await serverGroups(api);
        const expected = new Map([...model.groups].filter(([, ids]) => ids.length > 0));
        expect(groups, JSON.stringify(s)).toEqual(expected);
        // The list the step touched, as a client pages it in position order.
        for (const listId of model.lists) {
          expect(await pagedGroup(api, listId, null)).toEqual(model.topLevel(listId));
        }
      }
      // Subtasks of each parent, paged by parent alone.
      for (const [group, ids] of model.groups) {
        if (!group.startsWith("parent:")) continue;
        const parentId = group.slice("parent:".length);
        expect(await pagedGroup(api, "", parentId)).toEqual(ids);
      }
    }),
    { numRuns: 20, interruptAfterTimeLimit: 60_000 },
  );
  expect(steps).toBeGreaterThan(100);
}, 120_000);
