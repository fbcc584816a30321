import { createTestDatabase } from "@todo/db/testing";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    /** `postgres`: a database of its own on the test PostgreSQL; `embedded`: PGlite, as `pnpm start`. */
    databaseMode: "postgres" | "embedded";
  }
}

// One migrated database for the whole run; every test makes its own random users in it, so files
// run in parallel without clean-up and every test doubles as an isolation test.
export default async function setup(project: TestProject) {
  const database = await createTestDatabase({ prefix: "todo_test_server", migrate: true });
  project.provide("databaseUrl", database.url);
  project.provide("databaseMode", "postgres");
  return () => database.drop();
}
