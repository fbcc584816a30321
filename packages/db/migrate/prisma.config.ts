// Prisma 6.19 CLI configuration, used only for migrations: it runs Prisma's WebAssembly schema
// engine through a driver adapter, so no native binary is downloaded on any machine.
import { defineConfig } from "prisma-migrate/config";
import { createMigrationAdapter } from "./adapter.ts";
import { derivedSchemaPath } from "./derive-schema.ts";

const url = process.env.PRISMA_MIGRATE_URL;
if (!url) throw new Error("PRISMA_MIGRATE_URL is not set (run migrations through migrate/cli.ts)");

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: derivedSchemaPath,
  migrations: { path: "../../../prisma/migrations" },
  adapter: async () => createMigrationAdapter(url),
});
