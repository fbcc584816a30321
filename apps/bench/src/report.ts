import type { GeneratorResult, Scenario, Target } from "./generator.ts";
import type { OpenLoopResult } from "./open-loop.ts";
import { SCENARIO_DESCRIPTIONS } from "./requests.ts";

export type Row = GeneratorResult & {
  durationSeconds: number;
  scenario: Scenario;
  target: Target;
  rep: number;
  serverCpuPercent: number;
  serverPeakRssMb: number;
  /** Resident memory right after the run. */
  serverRssMb: number;
};

export type OpenLoopRow = OpenLoopResult & {
  fraction: number;
  durationSeconds: number;
  target: Target;
  serverCpuPercent: number;
};

/** What the run measured beyond the closed-loop table. */
export type Extras = {
  rssAfterRepsMb?: number[];
  sizes?: Array<{ rows: number; p50: number; p99: number; rps: number }>;
  verification?: { cpuMicrosPerVerification: number };
  memory?: Array<{
    server: string;
    connections: number;
    idleRssMb: number;
    openRssMb: number;
    kbPerConnection: number;
  }>;
  b0SaturationRps?: number;
  sweep?: OpenLoopRow[];
  /** S1 REST with WEB_CONCURRENCY 1 and 2, unpinned. */
  workers?: Array<{ processes: number; rps: number; p99: number }>;
  /** The warm-up's rounds of S1 (not counted in the medians). */
  warmup?: Array<{ round: number; target: Target; rps: number; p99: number }>;
};

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const LABEL: Record<Target, string> = {
  b0: "B0 node:http + pg",
  b1: "B1 Express + pg + HS256",
  b2: "B2 tRPC on Express + pg + HS256",
  rest: "P REST",
  trpc: "P tRPC",
};

export type Summary = ReturnType<typeof summarize>;

/** Medians over repetitions, per scenario and target, with the ratios to the baselines. */
export function summarize(runs: Row[]) {
  const out = [];
  for (const scenario of [...new Set(runs.map((r) => r.scenario))]) {
    const of = (target: Target) =>
      runs.filter((r) => r.scenario === scenario && r.target === target);
    const rps = (target: Target) => median(of(target).map((r) => r.requestsPerSecond));
    for (const target of ["b0", "b1", "b2", "rest", "trpc"] as const) {
      const rows = of(target);
      if (rows.length === 0) continue;
      out.push({
        scenario,
        target,
        requestsPerSecond: rps(target),
        p50: median(rows.map((r) => r.latencyMs.p50)),
        p95: rows.some((r) => r.latencyMs.p95 === null)
          ? null
          : median(rows.map((r) => r.latencyMs.p95 ?? 0)),
        p99: median(rows.map((r) => r.latencyMs.p99)),
        serverErrors: rows.reduce((s, r) => s + r.serverErrors, 0),
        errors: rows.reduce((s, r) => s + r.errors, 0),
        non2xx: rows.reduce((s, r) => s + r.non2xx, 0),
        serverCpuPercent: median(rows.map((r) => r.serverCpuPercent)),
        generatorCpuPercent: median(rows.map((r) => r.generatorCpuMs / (10 * r.durationSeconds))),
        peakRssMb: Math.max(...rows.map((r) => r.serverPeakRssMb)),
        vsB0: rps(target) / rps("b0"),
        vsB1: rps(target) / rps("b1"),
        vsB2: rps(target) / rps("b2"),
      });
    }
  }
  return out;
}

/**
 * Throughput targets: each surface against the reference that isolates its framework (REST: B1,
 * Express; tRPC: B2, tRPC on Express), so what is measured is the product's own layers.
 */
const TARGETS: Array<{ scenario: Scenario; target: "rest" | "trpc"; atLeast: number }> = [
  { scenario: "S1", target: "rest", atLeast: 0.9 },
  { scenario: "S1", target: "trpc", atLeast: 0.9 },
  ...(["S2", "S3", "S4"] as const).flatMap((scenario) => [
    { scenario, target: "rest" as const, atLeast: 0.85 },
    { scenario, target: "trpc" as const, atLeast: 0.85 },
  ]),
];
const REFERENCE = { rest: "b1", trpc: "b2" } as const;

function throughputTargets(summary: Summary): string[] {
  return TARGETS.flatMap((t) => {
    const row = summary.find((s) => s.scenario === t.scenario && s.target === t.target);
    if (!row) return [];
    const reference = REFERENCE[t.target];
    const ratio = reference === "b1" ? row.vsB1 : row.vsB2;
    const name = `${t.scenario} ${t.target === "rest" ? "REST" : "tRPC"} throughput ≥ ${t.atLeast.toFixed(2)} × ${reference.toUpperCase()}`;
    return [
      `| ${name} | ${f(ratio, 2)} × ${reference.toUpperCase()} | ${yes(ratio >= t.atLeast)} |`,
    ];
  });
}

/** Closed loop: the product's p99 at most twice B0's, scenario by scenario. */
function tailTargets(summary: Summary): string[] {
  const lines: string[] = [];
  for (const scenario of ["S1", "S2", "S3", "S4"] as const) {
    const b0 = summary.find((s) => s.scenario === scenario && s.target === "b0");
    for (const target of ["rest", "trpc"] as const) {
      const p = summary.find((s) => s.scenario === scenario && s.target === target);
      if (!b0 || !p) continue;
      const ratio = p.p99 / Math.max(b0.p99, 0.001);
      lines.push(
        `| ${scenario} ${target === "rest" ? "REST" : "tRPC"} closed-loop p99 ≤ 2 × B0's p99 | ${f(p.p99, 1)} vs ${f(b0.p99, 1)} ms (${f(ratio, 2)} ×) | ${yes(ratio <= 2)} |`,
      );
    }
  }
  return lines;
}

const f = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits });
const yes = (met: boolean) => (met ? "yes" : "no");

/** The targets beyond throughput, each with what was measured. */
function extraTargets(summary: Summary, extras: Extras): string[] {
  const lines: string[] = [];
  const sweep = extras.sweep ?? [];
  for (const target of ["rest", "trpc"] as const) {
    const p = sweep.find((r) => r.fraction === 0.5 && r.target === target);
    if (!p) continue;
    const met =
      p.latencyMs.p99 <= 50 &&
      p.errors === 0 &&
      p.serverErrors === 0 &&
      p.connectionsAtEnd === p.connectionsOpened;
    lines.push(
      `| open loop at half of B0's S1 rate (${f(p.rate)}/s), ${target === "rest" ? "REST" : "tRPC"}: p99 ≤ 50 ms, no errors, ${f(p.connectionsOpened)} connections | p99 ${f(p.latencyMs.p99, 1)} ms; ${p.errors} errors, ${p.serverErrors} 5xx; ${f(p.achievedRate)}/s answered; ${f(p.connectionsAtEnd)} connections open at the end | ${yes(met)} |`,
    );
  }
  if (extras.sizes?.length) {
    const med = (rows: number, key: "p50" | "p99" | "rps") =>
      median(extras.sizes?.filter((s) => s.rows === rows).map((s) => s[key]) ?? []);
    const [big, little] = [...new Set(extras.sizes.map((s) => s.rows))].sort((a, b) => b - a);
    if (big && little) {
      const ratio = med(big, "p50") / med(little, "p50");
      lines.push(
        `| S1 REST latency with ${f(big)} rows within 10% of ${f(little)} rows (p50, closed loop) | ${f(med(big, "p50"), 1)} vs ${f(med(little, "p50"), 1)} ms (${f(ratio, 2)} ×); p99 ${f(med(big, "p99"), 1)} vs ${f(med(little, "p99"), 1)} ms; ${f(med(big, "rps"))} vs ${f(med(little, "rps"))} req/s | ${yes(ratio <= 1.1)} |`,
      );
    }
  }
  const workers = extras.workers ?? [];
  if (workers.length) {
    const med = (n: number, key: "rps" | "p99") =>
      median(workers.filter((w) => w.processes === n).map((w) => w[key]));
    lines.push(
      `| S1 REST, WEB_CONCURRENCY=2 against 1 (both unpinned, sharing 2 cores with the generator and PostgreSQL) | ${f(med(2, "rps"))} vs ${f(med(1, "rps"))} req/s (${f(med(2, "rps") / Math.max(1, med(1, "rps")), 2)} ×); p99 ${f(med(2, "p99"), 1)} vs ${f(med(1, "p99"), 1)} ms | (reported) |`,
    );
  }
  for (const m of extras.memory ?? []) {
    if (m.server !== "P") continue;
    lines.push(
      `| memory ≤ 64 KB per open connection above idle | ${f(m.kbPerConnection, 1)} KB (${f(m.connections)} connections: RSS ${f(m.idleRssMb, 1)} → ${f(m.openRssMb, 1)} MB) | ${yes(m.kbPerConnection <= 64)} |`,
    );
  }
  const rss = extras.rssAfterRepsMb ?? [];
  if (rss.length >= 3) {
    const growth = (rss.at(-1) ?? 0) / (rss[0] ?? 1);
    lines.push(
      `| RSS flat over three back-to-back runs (S1 REST; last ≤ 1.10 × first) | ${rss.map((r) => f(r, 1)).join(" → ")} MB (${f(growth, 2)} ×) | ${yes(growth <= 1.1)} |`,
    );
  }
  const s1 = summary.find((s) => s.scenario === "S1" && s.target === "rest");
  if (extras.verification && s1) {
    const perRequestMicros = (s1.serverCpuPercent / 100) * (1e6 / s1.requestsPerSecond);
    const share = extras.verification.cpuMicrosPerVerification / perRequestMicros;
    lines.push(
      `| token verification ≤ 5% of a list request's CPU | ${f(extras.verification.cpuMicrosPerVerification, 1)} µs per HS256 verification / ${f(perRequestMicros)} µs of server CPU per S1 REST request = ${f(100 * share, 1)}% | ${yes(share <= 0.05)} |`,
    );
  }
  return lines;
}

function sweepTable(extras: Extras): string[] {
  if (!extras.sweep?.length) return [];
  return [
    `Open loop: Poisson arrivals of S1 requests at fractions of B0's closed-loop S1 rate (${f(extras.b0SaturationRps ?? 0)}/s), over ${f(extras.sweep[0]?.connectionsOpened ?? 0)} keep-alive connections opened beforehand; latency from each request's scheduled send time.`,
    "",
    "| offered | server | answered/s | p50 ms | p95 ms | p99 ms | max ms | errors | 5xx | connections (start → end) | server CPU % | generator CPU % | generator send lag p99 ms |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...extras.sweep.map(
      (r) =>
        `| ${f(r.rate)}/s (${r.fraction} × B0) | ${LABEL[r.target]} | ${f(r.achievedRate)} | ${f(r.latencyMs.p50, 1)} | ${f(r.latencyMs.p95, 1)} | ${f(r.latencyMs.p99, 1)} | ${f(r.latencyMs.max, 1)} | ${r.errors} | ${r.serverErrors} | ${f(r.connectionsOpened)} → ${f(r.connectionsAtEnd)} | ${f(r.serverCpuPercent)} | ${f(r.generatorCpuMs / (10 * r.durationSeconds))} | ${f(r.sendLagP99Ms, 1)} |`,
    ),
    "",
  ];
}

/** The warm-up's rounds: what the servers did before the timed runs, with the same ratios. */
function warmupTable(extras: Extras): string[] {
  const rounds = [...new Set((extras.warmup ?? []).map((w) => w.round))];
  if (rounds.length === 0) return [];
  const at = (round: number, target: Target) =>
    extras.warmup?.find((w) => w.round === round && w.target === target);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? f(a / b, 2) : "–");
  return [
    "Warm-up (S1, not counted): req/s and p99 ms per round, in the order run.",
    "",
    "| round | B0 | P REST | B1 | P tRPC | B2 | REST × B1 | tRPC × B2 |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rounds.map((round) => {
      const cell = (target: Target) => {
        const w = at(round, target);
        return w ? `${f(w.rps)} (${f(w.p99)})` : "–";
      };
      return `| ${round} | ${cell("b0")} | ${cell("rest")} | ${cell("b1")} | ${cell("trpc")} | ${cell("b2")} | ${ratio(at(round, "rest")?.rps, at(round, "b1")?.rps)} | ${ratio(at(round, "trpc")?.rps, at(round, "b2")?.rps)} |`;
    }),
    "",
  ];
}

export function renderMarkdown(
  meta: Record<string, unknown>,
  runs: Row[],
  extras: Extras = {},
): string {
  const summary = summarize(runs);
  const lines = [
    `Run ${meta.date}: Node ${meta.node}, the product's ${meta.product}, ${meta.cores} cores, ${f(meta.rows as number)} rows (${meta.users} users × ${meta.tasksPerUser} tasks), closed loop (${meta.generator}), ${meta.connections} connections, ${meta.durationSeconds} s per run, median of ${meta.reps} repetition(s). PostgreSQL: ${meta.postgres ?? "not pinned"}.`,
    "",
    "| scenario | server | req/s | p50 ms | p95 ms | p99 ms | 5xx | errors | non-2xx | server CPU % | generator CPU % | peak RSS MB | × B0 | × B1 | × B2 |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...summary.map(
      (s) =>
        `| ${s.scenario} | ${LABEL[s.target]} | ${f(s.requestsPerSecond)} | ${f(s.p50, 1)} | ${s.p95 === null ? "–" : f(s.p95, 1)} | ${f(s.p99, 1)} | ${s.serverErrors} | ${s.errors} | ${s.non2xx} | ${f(s.serverCpuPercent)} | ${f(s.generatorCpuPercent)} | ${f(s.peakRssMb)} | ${f(s.vsB0, 2)} | ${f(s.vsB1, 2)} | ${f(s.vsB2, 2)} |`,
    ),
    "",
    "| scenario | what |",
    "| --- | --- |",
    ...[...new Set(summary.map((s) => s.scenario))].map(
      (s) => `| ${s} | ${SCENARIO_DESCRIPTIONS[s]} |`,
    ),
    "",
    "| target | measured | met |",
    "| --- | ---: | --- |",
    ...throughputTargets(summary),
    ...tailTargets(summary),
    ...extraTargets(summary, extras),
    "",
    ...warmupTable(extras),
    ...sweepTable(extras),
  ];
  return lines.join("\n");
}
