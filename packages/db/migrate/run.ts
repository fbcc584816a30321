// Runs Prisma's own CLIs: 6.19 (WebAssembly schema engine) for migrations, 7.10 for generate and
// Studio. See docs/decisions/0001-prisma-toolchain.md for why there are two.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { writeDerivedSchema } from "./derive-schema.ts";
import { migrateDir as here, packageDir, requireFromPackage } from "./paths.ts";

const cliOf = (name: string) =>
  join(dirname(requireFromPackage.resolve(`${name}/package.json`)), "build/index.js");
const migrateCli = cliOf("prisma-migrate");
const prismaCli = cliOf("prisma");

export type MigrateCommand =
  | { kind: "deploy" }
  | { kind: "status" }
  | { kind: "reset" }
  | { kind: "dev"; name?: string; createOnly?: boolean }
  | { kind: "diff-check" };

export type RunOptions = {
  /** A direct (non-pooled) PostgreSQL URL: migrations need session-level features. */
  url: string;
  /** Where the CLI's output goes; defaults to this process's stdio. */
  stdio?: "inherit" | "pipe";
};

export type RunResult = { code: number; output: string };

function migrateArgs(command: MigrateCommand): string[] {
  switch (command.kind) {
    case "deploy":
      return ["migrate", "deploy"];
    case "status":
      return ["migrate", "status"];
    case "reset":
      return ["migrate", "reset", "--force", "--skip-generate", "--skip-seed"];
    case "dev":
      return [
        "migrate",
        "dev",
        "--skip-generate",
        "--skip-seed",
        ...(command.name ? ["--name", command.name] : []),
        ...(command.createOnly ? ["--create-only"] : []),
      ];
    case "diff-check":
      // Exit code 2 means the migrations and the schema differ (drift).
      return [
        "migrate",
        "diff",
        "--from-migrations",
        "../../../prisma/migrations",
        "--to-schema-datamodel",
        ".generated/schema.prisma",
        "--exit-code",
      ];
  }
}

function run(
  cli: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdio: "inherit" | "pipe" },
) {
  const { cwd, env, stdio } = options;
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1", ...env },
      stdio: stdio === "inherit" ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Runs one Prisma migrate command against `url` with the WebAssembly schema engine. */
export async function runMigrate(command: MigrateCommand, options: RunOptions): Promise<RunResult> {
  writeDerivedSchema();
  const preload = join(here, "unref-long-timers.cjs");
  return run(migrateCli, [...migrateArgs(command), "--config", "prisma.config.ts"], {
    cwd: here,
    env: {
      PRISMA_MIGRATE_URL: options.url,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} -r ${preload}`.trim(),
    },
    stdio: options.stdio ?? "inherit",
  });
}

/** Applies pending migrations; throws with the CLI's output when that fails. */
export async function deployMigrations(url: string): Promise<void> {
  const result = await runMigrate({ kind: "deploy" }, { url, stdio: "pipe" });
  if (result.code !== 0) throw new Error(`prisma migrate deploy failed:\n${result.output}`);
}

/** Runs a Prisma 7 CLI command (generate, studio) from the db package. */
export function runPrisma(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(prismaCli, args, {
    cwd: packageDir,
    // `generate` only checks that a schema engine file exists; it never runs it.
    env: { PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, ...env },
    stdio: "inherit",
  });
}
