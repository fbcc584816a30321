// On a machine of two cores the measured server has core 0 and the load generator core 1, but a
// local PostgreSQL's backends run wherever the scheduler puts them: on the server's core they take
// its time, more for a server whose queries ask PostgreSQL for more work (formatting dates, say),
// so the ratios would measure the database's placement as much as the server. While the benchmark
// runs, the local PostgreSQL's processes are kept on the generator's core (new backends inherit
// the postmaster's affinity) and given back their own affinity at the end. Nothing is changed where
// the database is not local, the processes are not ours to change, or taskset is missing.
import { execFileSync } from "node:child_process";

type Pinned = { restore: () => void; description: string };

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
}

/** The processes named `postgres` (the postmaster and its children), with their parents. */
function postgresProcesses(): Array<{ pid: number; ppid: number }> {
  return run("ps", ["-C", "postgres", "-o", "pid=,ppid="])
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid]) => Number.isInteger(pid) && (pid as number) > 0)
    .map(([pid, ppid]) => ({ pid: pid as number, ppid: ppid as number }));
}
const postgresPids = () => postgresProcesses().map((p) => p.pid);

/** The affinity mask taskset reports for a process, e.g. "3". */
function maskOf(pid: number): string | undefined {
  return /mask: ([0-9a-f,]+)/.exec(run("taskset", ["-p", String(pid)]))?.[1];
}

export function pinPostgres(databaseUrl: string, core: number): Pinned {
  const none = (why: string): Pinned => ({ restore: () => {}, description: `not pinned (${why})` });
  const host = new URL(databaseUrl).hostname;
  if (!["127.0.0.1", "localhost", "::1", "[::1]", ""].includes(host)) {
    return none("the database is not on this machine");
  }
  let pids: number[];
  try {
    pids = postgresPids();
  } catch {
    return none("no ps");
  }
  if (pids.length === 0) return none("no postgres process seen");
  const processes = postgresProcesses();
  // The postmaster: the one whose parent is not itself a postgres process.
  const postmaster = processes.find((p) => !pids.includes(p.ppid))?.pid;
  const masks = new Map<number, string>();
  try {
    for (const pid of pids) {
      const mask = maskOf(pid);
      if (mask === undefined) continue;
      run("taskset", ["-p", "-c", String(core), String(pid)]);
      masks.set(pid, mask);
    }
  } catch {
    // Not ours to change (another user's processes) or no taskset: leave everything as it was.
    for (const [pid, mask] of masks) {
      try {
        run("taskset", ["-p", mask, String(pid)]);
      } catch {}
    }
    return none("its processes could not be moved");
  }
  const original = [...new Set(masks.values())].join(", ");
  let restored = false;
  return {
    description: `PostgreSQL's ${masks.size} processes kept on core ${core} (their own affinity, mask ${original}, given back at the end)`,
    restore() {
      if (restored) return;
      restored = true;
      // Backends started during the run inherited the pinned mask: give every process the mask
      // the postmaster had.
      const postmasterMask = (postmaster && masks.get(postmaster)) || original;
      for (const pid of postgresPids()) {
        try {
          run("taskset", ["-p", masks.get(pid) ?? postmasterMask, String(pid)]);
        } catch {}
      }
    },
  };
}
