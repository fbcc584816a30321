// Prisma 7 CLI configuration: client generation and Studio. Migrations run through
// migrate/prisma.config.ts instead (see docs/decisions/0001-prisma-toolchain.md).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "../../prisma/schema.prisma",
  migrations: { path: "../../prisma/migrations" },
  datasource: { url: process.env.DIRECT_URL ?? process.env.DATABASE_URL ?? "" },
});
