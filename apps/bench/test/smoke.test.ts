// The benchmark's smoke variant, so it never rots: small data, one-second runs, every scenario on
// every server. It checks that everything runs and answers, not how fast.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import type { Extras, Row } from "../src/report.ts";
import { SCENARIO_DESCRIPTIONS } from "../src/requests.ts";

it("runs every scenario against B0, B1, B2 and the product (REST and tRPC), then every other measurement, without errors", async () => {
  const out = await mkdtemp(join(tmpdir(), "todo-bench-"));
  // On the runtime running the tests (CI runs them on Node 20 and on Node 24).
  const major = process.versions.node.split(".")[0] as string;
  const ran = join(out, `node${major}`);
  try {
    await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/run.ts",
        "--smoke",
        "--connections",
        "16",
        "--out",
        out,
        "--node",
        major,
      ],
      { cwd: join(import.meta.dirname, ".."), maxBuffer: 10 * 1024 * 1024 },
    );
    const { runs, ...extras } = JSON.parse(await readFile(join(ran, "smoke.json"), "utf8")) as {
      runs: Row[];
    } & Extras;
    // S1..S7, each on the five servers.
    expect(runs).toHaveLength(7 * 5);
    expect([...new Set(runs.map((r) => r.scenario))]).toEqual(Object.keys(SCENARIO_DESCRIPTIONS));
    for (const run of runs) {
      const what = `${run.scenario} ${run.target}`;
      expect(run.requests, what).toBeGreaterThan(0);
      expect(run.errors, what).toBe(0);
      expect(run.serverErrors, what).toBe(0);
      // Only S5 sends invalid tokens (10%); everything else must succeed, on every server.
      if (run.scenario !== "S5") expect(run.non2xx, what).toBe(0);
    }
    // The open loop: every server held all its connections and answered every request.
    expect(extras.sweep?.map((r) => r.target)).toEqual(["b0", "b1", "rest", "b2", "trpc"]);
    for (const r of extras.sweep ?? []) {
      expect(r.requests, r.target).toBeGreaterThan(0);
      expect(r.errors + r.serverErrors + r.non2xx, r.target).toBe(0);
      expect(r.connectionsOpened, r.target).toBe(50);
    }
    expect(extras.memory?.map((m) => m.connections)).toEqual([50, 50]);
    // One process, then two (WEB_CONCURRENCY), each answering.
    expect(extras.workers?.map((w) => w.processes)).toEqual([1, 2]);
    for (const w of extras.workers ?? []) expect(w.rps, `${w.processes}`).toBeGreaterThan(0);
    expect(extras.sizes?.map((s) => s.rows)).toEqual([1_000, 10_000]);
    expect(extras.verification?.cpuMicrosPerVerification).toBeGreaterThan(0);
    expect(await readFile(join(ran, "smoke-latency.svg"), "utf8")).toMatch(/^<svg[\s\S]*P REST/);
    const markdown = await readFile(join(out, "smoke.md"), "utf8");
    expect(markdown).toContain(`## Node ${major}`);
    expect(markdown).toContain("| target | measured | met |");
    for (const [scenario, what] of Object.entries(SCENARIO_DESCRIPTIONS)) {
      expect(markdown).toContain(`| ${scenario} | ${what} |`);
    }
    expect(markdown).toContain("S1 tRPC throughput ≥ 0.90 × B2");
    expect(markdown).toContain("token verification ≤ 5%");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

it("soaks the product under an open loop of mixed requests, segment by segment, without errors", async () => {
  const out = await mkdtemp(join(tmpdir(), "todo-soak-"));
  try {
    await promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/soak.ts",
        ...["--minutes", "2", "--segment", "3", "--users", "100", "--connections", "16"],
        ...["--out", out],
      ],
      { cwd: join(import.meta.dirname, ".."), maxBuffer: 10 * 1024 * 1024 },
    );
    const { minutes } = JSON.parse(await readFile(join(out, "soak-rest.json"), "utf8")) as {
      minutes: Array<{ achieved: number; errors: number; non2xx: number; rssMeanMb: number }>;
    };
    expect(minutes).toHaveLength(2);
    for (const m of minutes) {
      expect(m.achieved).toBeGreaterThan(0);
      expect(m.errors + m.non2xx).toBe(0);
      expect(m.rssMeanMb).toBeGreaterThan(0);
    }
    expect(await readFile(join(out, "soak-rest.md"), "utf8")).toContain(
      "RSS in the last minute against the second",
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

it("measures the embedded database against PostgreSQL, every request answered", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "src/embedded.ts", "--duration", "1", "--reps", "1", "--json"],
    { cwd: join(import.meta.dirname, ".."), maxBuffer: 10 * 1024 * 1024 },
  );
  const { rows } = JSON.parse(stdout) as {
    rows: { load: string; server: string; rps: number; failures: number }[];
  };
  expect(rows.map((r) => `${r.load} ${r.server}`).sort()).toEqual([
    "list PostgreSQL",
    "list embedded",
    "mixed PostgreSQL",
    "mixed embedded",
  ]);
  for (const row of rows) {
    expect(row.rps, `${row.load} ${row.server}`).toBeGreaterThan(0);
    expect(row.failures, `${row.load} ${row.server}`).toBe(0);
  }
});

it("measures live fan-out: every write reaches every stream of its user", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/live.ts",
      ...["--streams", "20", "--users", "5", "--rate", "20", "--seconds", "1", "--json"],
    ],
    { cwd: join(import.meta.dirname, ".."), maxBuffer: 10 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    writes: number;
    writeErrors: number;
    eventsExpected: number;
    eventsReceived: number;
    fanOutMs: { p99: number };
  };
  expect(result.writes).toBeGreaterThan(0);
  expect(result.writeErrors).toBe(0);
  expect(result.eventsReceived).toBe(result.eventsExpected);
  expect(result.fanOutMs.p99).toBeGreaterThanOrEqual(0);
});
