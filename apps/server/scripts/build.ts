// Compiles the server to JavaScript for production (`node dist/main.js`, as the Dockerfile runs
// it): one ES module bundle of the server and the workspace packages it uses (@todo/api,
// @todo/db), with every npm dependency left to node_modules, so no TypeScript loader runs in
// production. `pnpm start` and the tests keep running the sources through tsx.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "../../..");
const manifests = ["apps/server", "packages/api", "packages/db"].map(
  (dir) =>
    JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    },
);
// npm packages stay external (their own files, loaded from node_modules); workspace code is bundled.
const external = [
  ...new Set(
    manifests.flatMap((m) =>
      Object.keys({ ...m.dependencies, ...m.devDependencies }).filter(
        (n) => !n.startsWith("@todo/"),
      ),
    ),
  ),
].flatMap((name) => [name, `${name}/*`]);

const outdir = join(import.meta.dirname, "../dist");
// A clean folder each time: no chunk of an earlier build stays beside the new one.
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(import.meta.dirname, "../src/main.ts")],
  outdir,
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  external,
  logLevel: "warning",
  metafile: true,
});
// What the bundle imports from node_modules must resolve from here: the server's own
// dependencies, so it declares those of the workspace packages it inlines.
const server = manifests[0]?.dependencies ?? {};
const packageOf = (path: string) =>
  path
    .split("/")
    .slice(0, path.startsWith("@") ? 2 : 1)
    .join("/");
const missing = new Set(
  Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith("node:")))
    .map((i) => packageOf(i.path))
    .filter((name) => !(name in server)),
);
if (missing.size > 0) {
  console.error(
    `apps/server/package.json must list these dependencies: ${[...missing].join(", ")}`,
  );
  process.exit(1);
}
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
process.stdout.write(
  `Built ${outdir} (${Math.round(bytes / 1024)} KiB): run it with node dist/main.js\n`,
);
