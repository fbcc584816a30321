// For test suites: a fresh, migrated database of their own on the test PostgreSQL, dropped after.
import pg from "pg";
import { deployMigrations } from "../migrate/run.ts";
import { createDb, type DbHandle } from "./client.ts";
import { DEFAULT_ADMIN_URL } from "./defaults.ts";

/** The server tests create their databases on: TEST_DATABASE_URL, DATABASE_URL, or local. */
export function adminUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEST_DATABASE_URL || env.DATABASE_URL || DEFAULT_ADMIN_URL;
}

export type TestDatabase = { url: string; name: string; drop: () => Promise<void> };

/** Runs `work` on one short-lived connection to `url`. */
export async function withClient<T>(
  url: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the admin server, and a way to drop it (if it exists). */
export function databaseOnAdminServer(name: string): { url: string; drop: () => Promise<void> } {
  const base = adminUrl();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const drop = async () => {
    await withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  };
  return { url: u.toString(), drop };
}

/** Creates an empty database with a unique name; `migrate: true` applies all migrations. */
export async function createTestDatabase(options: {
  prefix: string;
  migrate: boolean;
}): Promise<TestDatabase> {
  const name = `${options.prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await withClient(adminUrl(), (c) => c.query(`CREATE DATABASE "${name}"`));
  const { url, drop } = databaseOnAdminServer(name);
  if (options.migrate) {
    try {
      await deployMigrations(url);
    } catch (error) {
      await drop();
      throw error;
    }
  }
  return { url, name, drop };
}

export type OpenTestDatabase = DbHandle & { url: string; close: () => Promise<void> };

/**
 * A migrated database of its own with a client on it, for one test file: `close` ends the client
 * and drops the database.
 */
export async function openTestDatabase(options: {
  prefix: string;
  poolMax?: number;
}): Promise<OpenTestDatabase> {
  const database = await createTestDatabase({ prefix: options.prefix, migrate: true });
  const handle = createDb({ url: database.url, poolMax: options.poolMax ?? 4 });
  return {
    ...handle,
    url: database.url,
    close: async () => {
      await handle.close();
      await database.drop();
    },
  };
}
