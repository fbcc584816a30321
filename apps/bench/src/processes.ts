// Where the benchmark's processes run: every command places them the same way (the measured server
// on core 0, load generators on core 1, a local PostgreSQL kept on core 1 while a run lasts).
import { availableParallelism } from "node:os";
import { pinPostgres } from "./pin-postgres.ts";

/** The `taskset` prefix that keeps a command on `core`; none on a machine of one core. */
export const onCore = (core: number): string[] =>
  availableParallelism() >= 2 ? ["taskset", "-c", String(core)] : [];

/**
 * Keeps a local PostgreSQL on `core` until this process ends (`enabled` and two cores or more),
 * and gives it back its affinity however the process ends: exit, or SIGINT/SIGTERM (exit 130).
 */
export function pinPostgresWhileRunning(
  databaseUrl: string,
  core: number,
  enabled: boolean,
): { description: string } {
  if (!enabled || availableParallelism() < 2) return { description: "not pinned" };
  const pinned = pinPostgres(databaseUrl, core);
  process.once("exit", () => pinned.restore());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => process.exit(130));
  }
  return pinned;
}
