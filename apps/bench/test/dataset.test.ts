// The requests name the dataset's rows by computed ids (no lookup per request): the ids the
// database got must be those.
import { withClient } from "@todo/db/testing";
import { expect, it } from "vitest";
import { ensureDataset, inboxIdOf, taskIdOf, userIdOf } from "../src/dataset.ts";

it("gives each user's Inbox and tasks the ids the requests compute, tasks at the Inbox's top level", async () => {
  const dataset = await ensureDataset(3, 4, () => {}, { throwaway: true });
  try {
    const rows = await withClient(dataset.url, async (c) => {
      const { rows } = await c.query(
        `SELECT tasks.user_id AS "userId", tasks.id::text AS "id", lists.id::text AS "inbox",
                lists.is_default AS "isDefault", tasks.parent_id AS "parentId"
           FROM tasks JOIN lists ON lists.id = tasks.list_id
          ORDER BY tasks.user_id, tasks.position, tasks.id`,
      );
      return rows;
    });
    const expected = [1, 2, 3].flatMap((n) =>
      [1, 2, 3, 4].map((i) => ({
        userId: userIdOf(n),
        // Newest (i = 1) first in manual order.
        id: taskIdOf(userIdOf(n), i),
        inbox: inboxIdOf(userIdOf(n)),
        isDefault: true,
        parentId: null,
      })),
    );
    expect(rows).toEqual(expected);
  } finally {
    await dataset.drop();
  }
});
