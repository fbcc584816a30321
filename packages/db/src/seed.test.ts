import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEED_LISTS, seedDatabase, seedLayout } from "./seed.ts";
import { type OpenTestDatabase, openTestDatabase } from "./testing.ts";

describe("seedLayout", () => {
  it("places task i the same whatever the number of tasks", () => {
    const many = seedLayout(200);
    for (const count of [0, 1, 6, 20, 57]) expect(seedLayout(count)).toEqual(many.slice(0, count));
  });

  it("spreads top-level tasks over every list, some with 1-3 subtasks in their list", () => {
    const layout = seedLayout(50);
    expect(new Set(layout.map((place) => place.list)).size).toBe(1 + SEED_LISTS.length);
    const groups = new Map<string, number[]>();
    for (const [i, place] of layout.entries()) {
      if (place.parent !== null) {
        // The parent comes first (it is inserted first), top-level, in the same list.
        expect(place.parent).toBeLessThan(i);
        expect(layout[place.parent]).toMatchObject({ list: place.list, parent: null });
      }
      const group = `${place.list}:${place.parent}`;
      groups.set(group, [...(groups.get(group) ?? []), place.rank]);
    }
    // Each sibling group ranked 0, 1, 2… in the seed's order: its keys come out in order.
    for (const ranks of groups.values()) expect(ranks).toEqual(ranks.map((_, r) => r));
    const steps = [...groups.entries()].filter(([group]) => !group.endsWith(":null"));
    expect(steps.length).toBeGreaterThan(0);
    for (const [, ranks] of steps) expect(ranks.length).toBeGreaterThanOrEqual(1);
    for (const [, ranks] of steps) expect(ranks.length).toBeLessThanOrEqual(3);
  });
});

describe("seedDatabase", () => {
  let database: OpenTestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase({ prefix: "todo_test_seed" });
  });
  afterAll(() => database.close());

  it("seeds again with more users and tasks, adding only what is new", async () => {
    const log = () => {};
    // Two tasks: the second one's subtasks come in the next run, under the parent seeded now.
    const first = await seedDatabase({ db: database.db, users: 2, tasksPerUser: 2, log });
    expect(first).toMatchObject({ created: 4, createdLists: 6 });
    const more = await seedDatabase({ db: database.db, users: 3, tasksPerUser: 25, log });
    expect(more).toMatchObject({ created: 75 - 4, createdLists: 3 });
    const again = await seedDatabase({ db: database.db, users: 3, tasksPerUser: 25, log });
    expect(again).toMatchObject({ created: 0, createdLists: 0 });
    // No two siblings share a position.
    const { rows } = await database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tasks
        GROUP BY user_id, list_id, parent_id, position ORDER BY n DESC LIMIT 1`,
    );
    expect(rows).toEqual([{ n: 1 }]);
  });
});
