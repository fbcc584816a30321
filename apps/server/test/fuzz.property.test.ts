// Thousands of random and hostile requests on both surfaces from several users: no answer may be
// a 5xx, none may carry a victim's secrets, and the victims' tasks and lists must end exactly as
// they began.
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  newJwksUser,
  newUser,
  rest,
  startServer,
  type TestServer,
  type TestUser,
} from "./harness.ts";

/** Percent-encodes what can be encoded (lone surrogates become U+FFFD first). */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());

let server: TestServer;
let attackers: TestUser[];
let victims: TestUser[];
const secrets: string[] = [];
const victimTaskIds: string[] = [];
const ownTaskIds: string[] = [];
const victimListIds: string[] = [];
const ownListIds: string[] = [];

async function snapshot(user: TestUser) {
  const res = await rest(server, "GET", `/api/${user.id}/tasks?limit=100&sort=title&order=asc`, {
    auth: user.auth,
  });
  const lists = await rest(server, "GET", `/api/${user.id}/lists`, { auth: user.auth });
  return { tasks: res.body.data, lists: lists.body.data };
}
let before: unknown[];

beforeAll(async () => {
  server = await startServer();
  attackers = [newUser(), newUser(), await newJwksUser(server)];
  victims = [newUser(), await newJwksUser(server)];
  for (const victim of victims) {
    const name = `secret-list-${crypto.randomUUID()}`.slice(0, 100);
    secrets.push(name);
    const list = await rest(server, "POST", `/api/${victim.id}/lists`, {
      auth: victim.auth,
      body: { name },
    });
    victimListIds.push(list.body.data.id);
    const lists = await rest(server, "GET", `/api/${victim.id}/lists`, { auth: victim.auth });
    victimListIds.push(lists.body.data[0].id);
    for (let i = 0; i < 3; i++) {
      const title = `secret-title-${crypto.randomUUID()}`;
      const description = `secret-notes-${crypto.randomUUID()}`;
      secrets.push(title, description);
      const res = await rest(server, "POST", `/api/${victim.id}/tasks`, {
        auth: victim.auth,
        body: {
          title,
          description,
          dueAt: "2030-01-01T00:00:00Z",
          priority: "high",
          ...(i === 2 ? { parentId: victimTaskIds.at(-1) } : { listId: victimListIds.at(-2) }),
          labels: [`secret-label-${i}-${crypto.randomUUID()}`.slice(0, 50)],
        },
      });
      secrets.push(...res.body.data.labels);
      victimTaskIds.push(res.body.data.id);
    }
  }
  for (const attacker of attackers) {
    const res = await rest(server, "POST", `/api/${attacker.id}/tasks`, {
      auth: attacker.auth,
      body: { title: "mine" },
    });
    ownTaskIds.push(res.body.data.id);
    const list = await rest(server, "POST", `/api/${attacker.id}/lists`, {
      auth: attacker.auth,
      body: { name: "mine" },
    });
    ownListIds.push(list.body.data.id);
  }
  before = await Promise.all(victims.map(snapshot));
});
afterAll(() => server.close());

const hostileStrings = fc.constantFrom(
  "",
  " ",
  "null",
  "undefined",
  "0",
  "-1",
  "1e309",
  "NaN",
  "../..",
  "%00",
  "\u0000",
  "' OR '1'='1",
  "'; DROP TABLE tasks; --",
  "<script>alert(1)</script>",
  "{{7*7}}",
  ["$", "{process.env}"].join(""),
  "__proto__",
  "constructor",
  "😀".repeat(300),
  "x".repeat(5_000),
  "\ud800",
  "00000000-0000-0000-0000-000000000000",
  "2030-13-45T99:99:99Z",
  "eyJhbGciOiJub25lIn0.e30.",
);
const text = fc.oneof(
  hostileStrings,
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
);
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), text, fc.integer(), fc.double());
/** Built once the fixtures exist: task references include the victims' real ids. */
function hostileRequests() {
  const taskRef = fc.oneof(fc.constantFrom(...victimTaskIds, ...ownTaskIds), fc.uuid(), text);
  const listRef = fc.oneof(fc.constantFrom(...victimListIds, ...ownListIds), fc.uuid(), text);
  // Ids in bodies and inputs: anyone's tasks and lists, nulls and nonsense.
  const anyRef = fc.oneof(taskRef, listRef, fc.constant(null));
  // A batch's operations: real ones on anyone's ids, and nonsense.
  const batchOps = fc.array(
    fc.oneof(
      fc.record(
        {
          op: fc.constantFrom("create", "update", "setCompleted", "delete", "move", "drop", ""),
          id: taskRef,
          listId: anyRef,
          parentId: anyRef,
          afterId: anyRef,
          title: text,
          completed: fc.oneof(fc.boolean(), text),
          version: fc.oneof(fc.integer(), text),
        },
        { requiredKeys: ["op"] },
      ),
      anyJson,
    ),
    { maxLength: 6 },
  );
  const batchBody = fc.record(
    { ops: fc.oneof(batchOps, anyJson), atomic: fc.oneof(fc.boolean(), anyJson) },
    { requiredKeys: [] },
  );
  const idempotencyKey = fc.option(
    fc.oneof(fc.uuid(), text, fc.constantFrom('"k-1"', "k-1", '"', "a b", "é")),
  );
  const fieldValue = fc.oneof(
    anyJson,
    anyRef,
    fc.array(fc.oneof(text, anyJson), { maxLength: 25 }),
    fc.constantFrom("#00ff00", "#GGGGGG", "red"),
  );
  const taskFields = fc.dictionary(
    fc.oneof(
      fc.constantFrom("title", "description", "priority", "dueAt", "completed", "version"),
      fc.constantFrom("listId", "parentId", "afterId", "labels", "name", "color", "position"),
      fc.constantFrom("id", "userId", "createdAt", "__proto__", "constructor", "completedAt"),
      fc.string({ maxLength: 8 }),
    ),
    fieldValue,
    { maxKeys: 6 },
  );
  const queryParams = fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        "limit",
        "cursor",
        "status",
        "sort",
        "order",
        "q",
        "priority",
        "dueBefore",
        "dueAfter",
        "since",
        "listId",
        "parentId",
        "label",
      ),
      fc.constantFrom("userId", "access_token", "__proto__", "limit[]"),
    ),
    fc.oneof(text, fc.integer().map(String), listRef, taskRef, fc.constantFrom("null", "position")),
    { maxKeys: 4 },
  );

  type Actor = { auth?: string; id: string };

  const actor = fc.oneof(
    { weight: 8, arbitrary: fc.nat({ max: 2 }).map((i): Actor => attackers[i] as Actor) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Actor>({ id: "anon" }, { id: "anon", auth: "Bearer x.y.z" }),
    },
  );

  const restRequest = fc.record({
    surface: fc.constant("rest" as const),
    actor,
    method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
    pathUser: fc.oneof(fc.constant("self"), fc.constant("victim"), text),
    collection: fc.constantFrom("tasks", "tasks", "tasks", "lists", "lists", "labels"),
    suffix: fc.oneof(
      listRef.map((id) => `/${enc(id)}`),
      taskRef.map((id) => `/${enc(id)}/move`),
      fc.constant(""),
      fc.constant("/stats"),
      fc.constantFrom("/changes", "/batch", "/clear-completed", "/changes/x", "/batch/"),
      taskRef.map((id) => `/${enc(id)}`),
      taskRef.map((id) => `/${enc(id)}/complete`),
      text.map((s) => `/${enc(s)}/${enc(s)}`),
      // Malformed percent-escapes, sent as they are.
      fc.constantFrom("/%E0%A4%A", "/%ZZ", "/%", "/%00/complete", "/%C0%AF"),
    ),
    query: queryParams,
    body: fc.oneof(
      taskFields,
      batchBody,
      anyJson,
      text.map((s) => ({ raw: `{"title": ${s}` })),
    ),
    idempotencyKey,
    contentType: fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
    ),
    ifMatch: fc.option(fc.constantFrom('"1"', '"2"', "*", 'W/"1"', "garbage", '"99999999999"')),
  });

  const procedures = [
    "me",
    "task.list",
    "task.byId",
    "task.stats",
    "task.create",
    "task.update",
    "task.setCompleted",
    "task.toggle",
    "task.delete",
    "task.replace",
    "task.changes",
    "task.batch",
    "task.clearCompleted",
    "task.move",
    "task.labels",
    "list.all",
    "list.byId",
    "list.create",
    "list.update",
    "list.delete",
    "task.nope",
    "__proto__",
  ];
  const trpcRequest = fc.record({
    surface: fc.constant("trpc" as const),
    actor,
    procedure: fc.constantFrom(...procedures),
    method: fc.constantFrom("GET", "POST"),
    input: fc.oneof(
      taskFields,
      taskRef.map((id) => ({ id })),
      fc.record({ id: taskRef, title: text, version: fc.integer() }),
      fc.record(
        { id: anyRef, listId: anyRef, parentId: anyRef, afterId: anyRef, name: text },
        { requiredKeys: [] },
      ),
      fc.record({ since: text, limit: fc.integer() }, { requiredKeys: [] }),
      batchBody,
      anyJson,
    ),
    batch: fc.boolean(),
    idempotencyKey,
  });
  return fc.oneof(restRequest, trpcRequest);
}

type Req = ReturnType<typeof hostileRequests> extends fc.Arbitrary<infer T> ? T : never;

async function send(req: Req): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (req.actor.auth) headers.authorization = req.actor.auth;
  // Only what a header can carry: fetch refuses the rest before sending.
  if (req.idempotencyKey !== null && /^[\x20-\x7e]*$/.test(req.idempotencyKey)) {
    headers["idempotency-key"] = req.idempotencyKey;
  }
  let url: string;
  let init: RequestInit;
  if (req.surface === "rest") {
    const user =
      req.pathUser === "self"
        ? req.actor.id
        : req.pathUser === "victim"
          ? (victims[0] as TestUser).id
          : req.pathUser;
    const query = new URLSearchParams(req.query).toString();
    url = `${server.baseUrl}/api/${enc(user)}/${req.collection}${req.suffix}${query ? `?${query}` : ""}`;
    if (req.ifMatch) headers["if-match"] = req.ifMatch;
    const withBody = !["GET", "HEAD", "OPTIONS"].includes(req.method);
    const body =
      typeof req.body === "object" && req.body !== null && "raw" in req.body
        ? String((req.body as { raw: unknown }).raw)
        : JSON.stringify(req.body);
    if (withBody) headers["content-type"] = req.contentType;
    init = { method: req.method, headers, body: withBody ? body : undefined };
  } else {
    const input = req.batch ? { 0: req.input } : req.input;
    const path = req.batch ? `${req.procedure}?batch=1` : req.procedure;
    if (req.method === "GET") {
      const sep = path.includes("?") ? "&" : "?";
      url = `${server.baseUrl}/trpc/${path}${sep}input=${enc(JSON.stringify(input) ?? "")}`;
      init = { headers };
    } else {
      url = `${server.baseUrl}/trpc/${path}`;
      init = {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(input),
      };
    }
  }
  const response = await fetch(url, init);
  return { status: response.status, text: await response.text() };
}

it("answers every hostile request without a 5xx or a leak, and leaves the victims' tasks alone", async () => {
  const statuses = new Map<number, number>();
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(hostileRequests(), { minLength: 20, maxLength: 40 }),
      async (requests) => {
        for (const req of requests) {
          const { status, text: body } = await send(req);
          sent++;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          expect(status, JSON.stringify(req).slice(0, 500)).toBeLessThan(500);
          expect(status).toBeGreaterThanOrEqual(200);
          for (const secret of secrets)
            expect(body, JSON.stringify(req).slice(0, 300)).not.toContain(secret);
        }
      },
    ),
    { numRuns: 100 },
  );
  expect(await Promise.all(victims.map(snapshot))).toEqual(before);
  expect(sent).toBeGreaterThanOrEqual(2_000);
  process.stdout.write(
    `fuzz: ${sent} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}\n`,
  );
});
