import { timingSafeEqual } from "node:crypto";
import { appRouter } from "@todo/api/router";
import type { Request, RequestHandler } from "express";
import type pg from "pg";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

// Routes as templates, never raw paths: user ids and task ids stay out of the labels (privacy,
// and bounded cardinality whatever clients send).
const REST_ROUTES: Array<[RegExp, string]> = [
  [/^\/api\/[^/]+\/tasks$/, "/api/:user_id/tasks"],
  [/^\/api\/[^/]+\/tasks\/stats$/, "/api/:user_id/tasks/stats"],
  [/^\/api\/[^/]+\/tasks\/[^/]+\/complete$/, "/api/:user_id/tasks/:id/complete"],
  [/^\/api\/[^/]+\/tasks\/[^/]+$/, "/api/:user_id/tasks/:id"],
  [/^\/api\/openapi\.json$/, "/api/openapi.json"],
  [/^\/health\/(live|ready)$/, "/health/$1"],
  [/^\/metrics$/, "/metrics"],
  [/^\/docs(\/.*)?$/, "/docs"],
];
const PROCEDURES = new Set(Object.keys(appRouter._def.procedures));

export function routeOf(req: Request): string {
  const path = req.originalUrl.split("?")[0] ?? "";
  if (path.startsWith("/trpc/")) {
    const names = path.slice("/trpc/".length).split(",");
    if (names.length > 1) return "/trpc/(batch)";
    return PROCEDURES.has(names[0] ?? "") ? `/trpc/${names[0]}` : "/trpc/(unknown)";
  }
  for (const [pattern, template] of REST_ROUTES) {
    if (pattern.test(path)) return path.replace(pattern, template);
  }
  return "(unmatched)";
}

export type Metrics = { middleware: RequestHandler; handler: RequestHandler };

/** Prometheus metrics: requests by route and status, latency, database pool, process. */
export function createMetrics(options: { pool: pg.Pool; token?: string }): Metrics {
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

  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on("finish", () => {
      const route = routeOf(req);
      end({ method: req.method, route });
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
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
