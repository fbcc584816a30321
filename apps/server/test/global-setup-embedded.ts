import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployMigrations } from "@todo/db/migrate";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../src/embedded-db.ts";

// The embedded database exactly as `pnpm start` makes it without DATABASE_URL (PGlite on a
// loopback port, migrated), in this process, shared by every test file of the project.
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), "todo-embedded-test-"));
  const embedded = await startEmbeddedPostgres(dataDir);
  await deployMigrations(embedded.url);
  project.provide("databaseUrl", embedded.url);
  project.provide("databaseMode", "embedded");
  return async () => {
    await embedded.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
