import type { GeneratorResult, Scenario, Target } from "./generator.ts";

export type Row = GeneratorResult & {
  scenario: Scenario;
  target: Target;
  rep: number;
  serverCpuPercent: number;
  serverPeakRssMb: number;
};

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const LABEL: Record<Target, string> = {
  b0: "B0 node:http + pg",
  b1: "B1 Express + pg + HS256",
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
    for (const target of ["b0", "b1", "rest", "trpc"] as const) {
      const rows = of(target);
      if (rows.length === 0) continue;
      out.push({
        scenario,
        target,
        requestsPerSecond: rps(target),
        p50: median(rows.map((r) => r.latencyMs.p50)),
        p97_5: median(rows.map((r) => r.latencyMs.p97_5)),
        p99: median(rows.map((r) => r.latencyMs.p99)),
        serverErrors: rows.reduce((s, r) => s + r.serverErrors, 0),
        errors: rows.reduce((s, r) => s + r.errors, 0),
        non2xx: rows.reduce((s, r) => s + r.non2xx, 0),
        serverCpuPercent: median(rows.map((r) => r.serverCpuPercent)),
        generatorCpuPercent: median(rows.map((r) => r.generatorCpuMs)),
        peakRssMb: Math.max(...rows.map((r) => r.serverPeakRssMb)),
        vsB0: rps(target) / rps("b0"),
        vsB1: rps(target) / rps("b1"),
      });
    }
  }
  return out;
}

const TARGETS: Array<{ name: string; scenario: Scenario; target: Target; atLeast: number }> = [
  { name: "S1 REST throughput ≥ 0.70 × B0", scenario: "S1", target: "rest", atLeast: 0.7 },
  { name: "S1 tRPC throughput ≥ 0.50 × B0", scenario: "S1", target: "trpc", atLeast: 0.5 },
  { name: "S4 (REST) throughput ≥ 0.60 × B0", scenario: "S4", target: "rest", atLeast: 0.6 },
];

export function renderMarkdown(meta: Record<string, unknown>, runs: Row[]): string {
  const summary = summarize(runs);
  const f = (n: number, digits = 0) => n.toLocaleString("en", { maximumFractionDigits: digits });
  const lines = [
    `Run ${meta.date}: Node ${meta.node}, ${meta.cores} cores, ${f(meta.rows as number)} rows (${meta.users} users × ${meta.tasksPerUser} tasks), closed loop, ${meta.connections} connections, ${meta.durationSeconds} s per run, median of ${meta.reps} repetition(s).`,
    "",
    "| scenario | server | req/s | p50 ms | p97.5 ms | p99 ms | 5xx | errors | non-2xx | server CPU % | generator CPU ms | peak RSS MB | × B0 | × B1 |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...summary.map(
      (s) =>
        `| ${s.scenario} | ${LABEL[s.target]} | ${f(s.requestsPerSecond)} | ${s.p50} | ${s.p97_5} | ${s.p99} | ${s.serverErrors} | ${s.errors} | ${s.non2xx} | ${f(s.serverCpuPercent)} | ${f(s.generatorCpuPercent)} | ${f(s.peakRssMb)} | ${f(s.vsB0, 2)} | ${f(s.vsB1, 2)} |`,
    ),
    "",
    "| target | measured | met |",
    "| --- | ---: | --- |",
    ...TARGETS.map((t) => {
      const row = summary.find((s) => s.scenario === t.scenario && s.target === t.target);
      const ratio = row?.vsB0 ?? Number.NaN;
      return `| ${t.name} | ${f(ratio, 2)} × B0 | ${ratio >= t.atLeast ? "yes" : "no"} |`;
    }),
    "",
  ];
  return lines.join("\n");
}
