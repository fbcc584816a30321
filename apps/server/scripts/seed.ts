// `pnpm db:seed [--users N] [--tasks M]`: demo users, lists and tasks (@todo/db/seed) in the
// database of DIRECT_URL / DATABASE_URL, then development tokens for the first three users.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signHs256Token } from "@todo/api/auth";
import { createDb } from "@todo/db/client";
import { DEFAULT_DATABASE_URL } from "@todo/db/defaults";
import { SEED_LISTS, seedDatabase, whyNotSeedable } from "@todo/db/seed";
import { readDevSecret } from "../src/dev-secret.ts";

const { values } = parseArgs({
  options: { users: { type: "string", default: "10" }, tasks: { type: "string", default: "20" } },
});
const users = Number(values.users);
const tasksPerUser = Number(values.tasks);
if (!Number.isInteger(users) || users < 1 || !Number.isInteger(tasksPerUser) || tasksPerUser < 0) {
  console.error("usage: pnpm db:seed [--users N] [--tasks M]  (whole numbers)");
  process.exit(2);
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const url = process.env.DIRECT_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
const started = Date.now();
const { db, close } = createDb({ url });

// The tables must be there: a fresh database gets one line saying what to run, not a stack trace.
const problem = await whyNotSeedable(db, url);
if (problem) {
  log(problem);
  await close();
  process.exit(1);
}

try {
  const { userIds, created, createdLists } = await seedDatabase({ db, users, tasksPerUser, log });
  log(
    `Seeded ${users} users × ${tasksPerUser} tasks in ${SEED_LISTS.length + 1} lists: ${created} new tasks, ${createdLists} new lists (existing ones kept) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  const secret =
    process.env.BETTER_AUTH_SECRET ??
    (await readDevSecret(process.env.DATA_DIR ?? join(import.meta.dirname, "../../../.data")));
  if (process.env.NODE_ENV === "production" || !secret) {
    log(
      `Tokens: pnpm -s run token ${userIds[0]}  (needs BETTER_AUTH_SECRET or a started dev server)`,
    );
  } else {
    log("Tokens (HS256, 1 hour):");
    for (const userId of userIds.slice(0, 3)) {
      process.stdout.write(
        `${userId} ${signHs256Token({ secret, userId, expiresInSeconds: 3600 })}\n`,
      );
    }
  }
} finally {
  await close();
}
