// Random operations by several users, on both surfaces, aimed at random tasks (often someone
// else's). Afterwards each user's view must equal a model of that user's own successful
// operations, and nothing else.
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { restOutcome } from "./endpoints.ts";
import {
  newUser,
  type Outcome,
  outcome,
  rest,
  startServer,
  type TestServer,
  type TestUser,
  trpcClient,
} from "./harness.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

type Model = Map<string, { owner: number; title: string; completed: boolean }>;

type Op =
  | { kind: "create"; user: number; title: string; viaRest: boolean }
  | { kind: "update"; user: number; task: number; title: string; viaRest: boolean }
  | { kind: "toggle"; user: number; task: number; viaRest: boolean }
  | { kind: "delete"; user: number; task: number; viaRest: boolean }
  | { kind: "get"; user: number; task: number; viaRest: boolean };

const USERS = 3;
const user = fc.integer({ min: 0, max: USERS - 1 });
const task = fc.nat({ max: 30 });
const title = fc
  .string({ minLength: 1, maxLength: 20 })
  .filter((s) => /^[^\p{Cc}]*\S[^\p{Cc}]*$/u.test(s) && s.isWellFormed());
const viaRest = fc.boolean();
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), user, title, viaRest }),
  fc.record({ kind: fc.constant("update" as const), user, task, title, viaRest }),
  fc.record({ kind: fc.constant("toggle" as const), user, task, viaRest }),
  fc.record({ kind: fc.constant("delete" as const), user, task, viaRest }),
  fc.record({ kind: fc.constant("get" as const), user, task, viaRest }),
);

async function perform(users: TestUser[], ids: string[], o: Op): Promise<Outcome> {
  const u = users[o.user] as TestUser;
  const path = `/api/${u.id}/tasks`;
  const api = trpcClient(server, u.auth);
  if (o.kind === "create") {
    return o.viaRest
      ? restOutcome(await rest(server, "POST", path, { auth: u.auth, body: { title: o.title } }))
      : outcome(() => api.task.create.mutate({ title: o.title }));
  }
  const id = ids[o.task % Math.max(ids.length, 1)] ?? "00000000-0000-4000-8000-000000000000";
  const call = {
    update: () =>
      o.viaRest
        ? rest(server, "PATCH", `${path}/${id}`, {
            auth: u.auth,
            body: { title: (o as { title: string }).title },
          })
        : api.task.update.mutate({ id, title: (o as { title: string }).title }),
    toggle: () =>
      o.viaRest
        ? rest(server, "PATCH", `${path}/${id}/complete`, { auth: u.auth })
        : api.task.toggle.mutate({ id }),
    delete: () =>
      o.viaRest
        ? rest(server, "DELETE", `${path}/${id}`, { auth: u.auth })
        : api.task.delete.mutate({ id }),
    get: () =>
      o.viaRest
        ? rest(server, "GET", `${path}/${id}`, { auth: u.auth })
        : api.task.byId.query({ id }),
  }[o.kind];
  if (o.viaRest) return restOutcome((await call()) as Awaited<ReturnType<typeof rest>>);
  return outcome(call);
}

async function listAll(u: TestUser) {
  const api = trpcClient(server, u.auth);
  const items = [];
  let cursor: string | null = null;
  do {
    const page = await api.task.list.query({ limit: 7, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

it("keeps every user's tasks exactly as that user's own operations left them", async () => {
  let operations = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
      const users = Array.from({ length: USERS }, newUser);
      const model: Model = new Map();
      const ids: string[] = [];
      for (const o of ops) {
        const result = await perform(users, ids, o);
        operations++;
        expect(result.status).toBeLessThan(500);
        if (o.kind === "create") {
          expect(result.status).toBeLessThan(300);
          ids.push(result.data.id);
          model.set(result.data.id, { owner: o.user, title: o.title.trim(), completed: false });
          continue;
        }
        const id = ids[o.task % Math.max(ids.length, 1)];
        const entry = id === undefined ? undefined : model.get(id);
        if (!entry || entry.owner !== o.user) {
          // Someone else's task, a deleted one, or none at all: indistinguishable 404s.
          expect(result.status).toBe(404);
          refused++;
          continue;
        }
        expect(result.status).toBe(200);
        if (o.kind === "update") entry.title = o.title.trim();
        if (o.kind === "toggle") entry.completed = !entry.completed;
        if (o.kind === "delete") model.delete(id as string);
      }
      for (const [index, u] of users.entries()) {
        const seen = (await listAll(u)).map((t) => ({
          id: t.id,
          title: t.title,
          completed: t.completed,
        }));
        const expected = [...model.entries()]
          .filter(([, t]) => t.owner === index)
          .map(([id, t]) => ({ id, title: t.title, completed: t.completed }));
        expect(seen.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
          expected.sort((a, b) => a.id.localeCompare(b.id)),
        );
      }
    }),
    { numRuns: 25 },
  );
  // The run must have exercised both sides of the law.
  expect(operations).toBeGreaterThan(200);
  expect(refused).toBeGreaterThan(20);
});
