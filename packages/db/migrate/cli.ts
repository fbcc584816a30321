// `pnpm db:*` entry point: node --import tsx migrate/cli.ts <command> [--name <name>]
import { parseArgs } from "node:util";
import { type MigrateCommand, runMigrate, runPrisma } from "./run.ts";

const DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/todo";

const command = process.argv[2];
// generate and studio take Prisma's own flags (e.g. `studio --port 5556`), passed through as given.
const passThrough = process.argv.slice(3);
const { values } = parseArgs({
  args: command === "generate" || command === "studio" ? [] : passThrough,
  options: { name: { type: "string" }, "create-only": { type: "boolean" } },
});
// Migrations need a direct connection (Neon: the non-pooled URL), hence DIRECT_URL first.
const url = process.env.DIRECT_URL || process.env.DATABASE_URL || DEFAULT_URL;

const migrateCommands: Record<string, MigrateCommand> = {
  deploy: { kind: "deploy" },
  status: { kind: "status" },
  reset: { kind: "reset" },
  dev: { kind: "dev", name: values.name, createOnly: values["create-only"] },
  "diff-check": { kind: "diff-check" },
};

async function main(): Promise<number> {
  if (command === "generate") return (await runPrisma(["generate", ...passThrough])).code;
  if (command === "studio") {
    return (await runPrisma(["studio", ...passThrough], { DATABASE_URL: url, DIRECT_URL: url }))
      .code;
  }
  const migrate = command ? migrateCommands[command] : undefined;
  if (!migrate) {
    console.error(
      `usage: cli.ts <generate|studio|${Object.keys(migrateCommands).join("|")}> [--name NAME]`,
    );
    return 2;
  }
  return (await runMigrate(migrate, { url })).code;
}

process.exitCode = await main();
