// The latency-versus-rate chart of the open-loop sweep, as SVG (Vega-Lite, rendered headless).
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { OpenLoopRow } from "./report.ts";

const NAMES = {
  b0: "B0 node:http + pg",
  b1: "B1 Express + pg",
  b2: "B2 tRPC on Express + pg",
  rest: "P REST",
  trpc: "P tRPC",
};

export async function renderChart(sweep: OpenLoopRow[]): Promise<string> {
  const values = sweep.flatMap((r) =>
    (["p50", "p99"] as const).map((percentile) => ({
      rate: r.rate,
      server: NAMES[r.target],
      percentile,
      latency: Math.max(r.latencyMs[percentile], 0.1),
    })),
  );
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "S1 latency vs offered rate (open loop, Poisson arrivals)",
    width: 560,
    height: 320,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "rate", type: "quantitative", title: "offered rate (requests/s)" },
      y: {
        field: "latency",
        type: "quantitative",
        scale: { type: "log" },
        title: "latency from scheduled send (ms, log scale)",
      },
      color: { field: "server", type: "nominal", title: "server" },
      strokeDash: {
        field: "percentile",
        type: "nominal",
        title: "percentile",
        legend: { symbolType: "stroke", symbolStrokeWidth: 2 },
      },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}
