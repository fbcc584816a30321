// Where this package's files are, found through the package's name rather than this module's own
// URL: the paths then hold wherever the code runs from, including the server's production bundle
// (apps/server/dist), which inlines this module.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const packageJson = createRequire(import.meta.url).resolve("@todo/db/package.json");
/** packages/db */
export const packageDir = dirname(packageJson);
/** packages/db/migrate */
export const migrateDir = join(packageDir, "migrate");
/** Resolves modules as this package does (its own dependencies, such as the Prisma CLIs). */
export const requireFromPackage = createRequire(packageJson);
