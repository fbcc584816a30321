import { timingSafeEqual } from "node:crypto";
import { appRouter } from "@todo/api/router";
import type { Request, RequestHandler, Response } from "express";
import type pg from "pg";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

// Routes as templates, never raw paths: user ids and task ids stay out of the labels (privacy,
// and bounded cardinality whatever clients send).
const OTHER_ROUTES: Array<[RegExp, string]> = [
  [/^\/api\/openapi\.json$/, "/api/openapi.json"],
  [/^\/health\/(live|ready)$/, "/health/$1"],
  [/^\/metrics$/, "/metrics"],
  [/^\/docs(\/.*)?$/, "/docs"],
];
const PROCEDURES = new Set(Object.keys(appRouter._def.procedures));

/**
 * The label of every path: tRPC procedures by name, REST paths by their template. `restPaths` are
 * the REST route table's paths (`/api/{user_id}/tasks/{id}`), literal ones before parameter ones.
 */
export function routeLabeller(restPaths: readonly string[]): (req: Request) => string {
  const rest: Array<[RegExp, string]> = [...new Set(restPaths)].map((path) => [
    new RegExp(`^${path.replace(/\{\w+\}/g, "[^/]+").replaceAll(".", "\\.")}$`),
    path.replace(/\{(\w+)\}/g, ":$1"),
  ]);
  const routes = [...rest, ...OTHER_ROUTES];
  return (req) => {
    const path = req.originalUrl.split("?")[0] ?? "";
    if (path.startsWith("/trpc/")) {
      const names = path.slice("/trpc/".length).split(",");
      if (names.length > 1) return "/trpc/(batch)";
      return PROCEDURES.has(names[0] ?? "") ? `/trpc/${names[0]}` : "/trpc/(unknown)";
    }
    for (const [pattern, template] of routes) {
      if (pattern.test(path)) return path.replace(pattern, template);
    }
    return "(unmatched)";
  };
}

export type Metrics = { middleware: RequestHandler; handler: RequestHandler };

/** What live streams report: how many are open, and how long a change took to reach one. */
export type LiveGauge = { open: () => number; onFanOut: (listener: (ms: number) => void) => void };

/**
 * Prometheus metrics: requests by route and status, latency, database pool, live streams and
 * their fan-out latency, process.
 */
export function createMetrics(options: {
  pool: pg.Pool;
  token?: string;
  restPaths: readonly string[];
  live?: LiveGauge;
}): Metrics {
  const routeOf = routeLabeller(options.restPaths);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests by method, route template and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by method and route template",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const { pool } = options;
  new Gauge({
    name: "db_pool_connections",
    help: "Database pool connections: total, idle, and requests waiting for one",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.set({ state: "total" }, pool.totalCount);
      this.set({ state: "idle" }, pool.idleCount);
      this.set({ state: "waiting" }, pool.waitingCount);
    },
  });

  const { live } = options;
  if (live) {
    new Gauge({
      name: "live_streams_open",
      help: "Live update streams (tRPC subscriptions and REST event streams) open on this instance",
      registers: [registry],
      collect() {
        this.set(live.open());
      },
    });
    const fanOut = new Histogram({
      name: "live_fanout_seconds",
      help: "From the writing transaction's start to its change written to a stream",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    live.onFanOut((ms) => fanOut.observe(ms / 1000));
  }

  // One listener for every request; its start is the one the request log takes (res.locals).
  function onFinish(this: Response) {
    const { req } = this;
    const route = routeOf(req);
    duration.observe(
      { method: req.method, route },
      (performance.now() - this.locals.startedAt) / 1000,
    );
    requests.inc({ method: req.method, route, status: String(this.statusCode) });
  }
  const middleware: RequestHandler = (_req, res, next) => {
    res.locals.startedAt ??= performance.now();
    res.on("finish", onFinish);
    next();
  };
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  const handler: RequestHandler = async (req, res) => {
    if (expected) {
      const given = Buffer.from(req.get("authorization") ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        res.status(401).setHeader("WWW-Authenticate", 'Bearer realm="metrics"').end();
        return;
      }
    }
    res.setHeader("Content-Type", registry.contentType);
    res.end(await registry.metrics());
  };
  return { middleware, handler };
}
