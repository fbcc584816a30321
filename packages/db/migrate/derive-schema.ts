// Derives, from prisma/schema.prisma (Prisma 7 format), the copy that the Prisma 6.19 migration
// CLI reads: its datasource needs a `url`, and its generator must be the WebAssembly client one or
// the CLI asks for a native engine. Only those two blocks differ; the models are the same text.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { migrateDir, packageDir } from "./paths.ts";

export const sourceSchemaPath = join(packageDir, "../../prisma/schema.prisma");
export const derivedSchemaPath = join(migrateDir, ".generated/schema.prisma");

const MIGRATE_GENERATOR = `generator client {
  provider        = "prisma-client-js"
  engineType      = "client"
  previewFeatures = ["queryCompiler", "driverAdapters"]
}`;

const MIGRATE_DATASOURCE = `datasource db {
  provider = "postgresql"
  url      = env("PRISMA_MIGRATE_URL")
}`;

export function deriveSchema(source: string): string {
  const generators = /^generator\s+\w+\s*\{[^}]*\}/gm;
  const datasource = /^datasource\s+\w+\s*\{[^}]*\}/m;
  if (!datasource.test(source)) throw new Error("prisma/schema.prisma has no datasource block");
  return `// GENERATED from prisma/schema.prisma by derive-schema.ts. Do not edit.\n${source
    .replace(generators, "")
    .replace(datasource, `${MIGRATE_DATASOURCE}\n\n${MIGRATE_GENERATOR}`)}`;
}

/** Writes the derived schema and returns its path. */
export function writeDerivedSchema(): string {
  mkdirSync(dirname(derivedSchemaPath), { recursive: true });
  writeFileSync(derivedSchemaPath, deriveSchema(readFileSync(sourceSchemaPath, "utf8")));
  return derivedSchemaPath;
}
