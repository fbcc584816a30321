// Keys stay short however often tasks are moved into the same gap: the worst case of fractional
// keys (each move halves the gap, and a key grows by about one character per six moves). Through
// the task procedures in process, on a real PostgreSQL.
import { type OpenTestDatabase, openTestDatabase } from "@todo/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHs256Verifier, signHs256Token } from "../auth/verifier.ts";
import { MAX_KEY_LENGTH } from "../order.ts";
import { createCaller } from "../root.ts";
import { createContextInner } from "../trpc.ts";

const SECRET = "order-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const verifier = createHs256Verifier({ secret: SECRET, clockSkewSeconds: 5 });
let handle: OpenTestDatabase;

beforeAll(async () => {
  handle = await openTestDatabase({ prefix: "todo_test_api_order", poolMax: 4 });
});
afterAll(() => handle.close());

function newCaller() {
  const id = `user_${crypto.randomUUID()}`;
  const token = signHs256Token({ secret: SECRET, userId: id, expiresInSeconds: 3_600 });
  const ctx = createContextInner({
    db: handle.db,
    verifier,
    credentials: { authorization: [`Bearer ${token}`] },
  });
  return createCaller(ctx);
}

const MOVES = 10_000;

it(`keeps keys at most ${MAX_KEY_LENGTH} characters through ${MOVES} moves into one gap`, async () => {
  const api = newCaller();
  // Newest first: the Inbox reads a, x, y, b.
  await api.task.create({ title: "b" });
  const y = await api.task.create({ title: "y" });
  const x = await api.task.create({ title: "x" });
  const a = await api.task.create({ title: "a" });
  const inbox = a.listId;
  let longest = 0;
  let rebalances = 0;
  let previous = 0;
  const started = performance.now();
  for (let i = 0; i < MOVES; i++) {
    // x and y in turn, each right after a: the gap between a and the other one halves each time.
    const moved = await api.task.move({ id: i % 2 === 0 ? x.id : y.id, afterId: a.id });
    longest = Math.max(longest, moved.position.length);
    // A rebalance gives the group fresh keys of two characters: the moved one's key drops.
    if (moved.position.length < previous - 10) rebalances++;
    previous = moved.position.length;
  }
  const ms = performance.now() - started;
  const page = await api.task.list({
    listId: inbox,
    parentId: null,
    sort: "position",
    order: "asc",
    limit: 10,
  });
  // The last move put y right after a.
  expect(page.items.map((t) => t.title)).toEqual(["a", "y", "x", "b"]);
  for (const task of page.items) expect(task.position.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
  expect(longest).toBeLessThanOrEqual(MAX_KEY_LENGTH);
  // Without rebalancing, the keys would have grown to well over a thousand characters.
  expect(rebalances).toBeGreaterThan(0);
  process.stdout.write(
    `order: ${MOVES} moves into one gap: longest key ${longest}, ${rebalances} rebalances, ${(ms / MOVES).toFixed(2)} ms per move\n`,
  );
}, 300_000);
