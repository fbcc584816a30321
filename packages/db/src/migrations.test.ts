import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrate } from "../migrate/run.ts";
import { createTestDatabase, type TestDatabase } from "./testing.ts";

describe("migrations", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ prefix: "todo_test_migrations", migrate: false });
  });
  afterAll(() => database.drop());

  it("apply to an empty database, and then nothing is pending", async () => {
    const deploy = await runMigrate({ kind: "deploy" }, { url: database.url, stdio: "pipe" });
    expect(deploy.output).toMatch(/applied|No pending migrations/);
    expect(deploy.code).toBe(0);
    const status = await runMigrate({ kind: "status" }, { url: database.url, stdio: "pipe" });
    expect(status.output).toContain("Database schema is up to date");
    expect(status.code).toBe(0);
  });

  it("leave no drift between the migrations and prisma/schema.prisma", async () => {
    // Replays every migration on a shadow database and compares the result with the schema;
    // exit code 2 would mean a schema change without its migration.
    const diff = await runMigrate({ kind: "diff-check" }, { url: database.url, stdio: "pipe" });
    expect(diff.output).toContain("No difference detected");
    expect(diff.code).toBe(0);
  });
});
