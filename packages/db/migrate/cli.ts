// `pnpm db:*` entry point: node --import tsx migrate/cli.ts <command> [--name <name>]
import { parseArgs } from "node:util";
import pg from "pg";
import { DEFAULT_DATABASE_URL } from "../src/defaults.ts";
import { type MigrateCommand, runMigrate, runPrisma } from "./run.ts";

const command = process.argv[2];
// generate and studio take Prisma's own flags (e.g. `studio --port 5556`), passed through as given.
const passThrough = process.argv.slice(3);
const { values } = parseArgs({
  args: command === "generate" || command === "studio" ? [] : passThrough,
  options: { name: { type: "string" }, "create-only": { type: "boolean" } },
});
// Migrations need a direct connection (Neon: the non-pooled URL), hence DIRECT_URL first.
const url = process.env.DIRECT_URL || process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

const migrateCommands: Record<string, MigrateCommand> = {
  deploy: { kind: "deploy" },
  status: { kind: "status" },
  reset: { kind: "reset" },
  dev: { kind: "dev", name: values.name, createOnly: values["create-only"] },
  "diff-check": { kind: "diff-check" },
};

/**
 * Creates the URL's database when it does not exist yet (as `migrate dev` does, and `migrate
 * deploy` does not), so the first `pnpm db:migrate` on a fresh server works. Quiet otherwise: any
 * problem reaching the server is left for the migration to report.
 */
async function ensureDatabase(databaseUrl: string): Promise<void> {
  let name: string;
  let admin: URL;
  try {
    admin = new URL(databaseUrl);
    name = decodeURIComponent(admin.pathname.slice(1));
    admin.pathname = "/postgres";
  } catch {
    return;
  }
  if (!name || name === "postgres") return;
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      process.stdout.write(`Created database "${name}"\n`);
    }
  } catch {
    // No maintenance database, or no right to create one: the migration says what is wrong.
  } finally {
    await client.end().catch(() => {});
  }
}

/** A browser can be opened here: macOS, Windows, a Linux desktop session, or $BROWSER named. */
function hasDesktop(): boolean {
  if (process.env.BROWSER) return process.env.BROWSER !== "none";
  if (process.platform === "darwin" || process.platform === "win32") return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

async function main(): Promise<number> {
  if (command === "generate") return (await runPrisma(["generate", ...passThrough])).code;
  if (command === "studio") {
    const args = ["studio", ...passThrough];
    // Prisma opens a browser unless told not to, and crashes where there is none to open
    // (`spawn xdg-open ENOENT` on a server). Without a desktop it only prints the URL.
    const choseBrowser = passThrough.some((a) => a === "-b" || a.startsWith("--browser"));
    if (!choseBrowser && !hasDesktop()) args.push("--browser", "none");
    return (await runPrisma(args, { DATABASE_URL: url, DIRECT_URL: url })).code;
  }
  const migrate = command ? migrateCommands[command] : undefined;
  if (migrate?.kind === "deploy" || migrate?.kind === "dev") await ensureDatabase(url);
  if (!migrate) {
    console.error(
      `usage: cli.ts <generate|studio|${Object.keys(migrateCommands).join("|")}> [--name NAME]`,
    );
    return 2;
  }
  return (await runMigrate(migrate, { url })).code;
}

process.exitCode = await main();
