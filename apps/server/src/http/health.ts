import { readinessProbe } from "@todo/api/task/sql";
import type { Db } from "@todo/db/client";
import { Router } from "express";

export type HealthOptions = {
  db: Db;
  /** True from SIGTERM on: load balancers stop sending before the server stops accepting. */
  isShuttingDown: () => boolean;
  readinessTimeoutMs: number;
};

/** Liveness (the process answers) and readiness (it can serve: the database answers a task query, not stopping). */
export function healthRouter({ db, isShuttingDown, readinessTimeoutMs }: HealthOptions): Router {
  const health = Router();
  health.get("/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  health.get("/ready", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    if (isShuttingDown()) {
      res.status(503).json({ status: "shutting-down" });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), readinessTimeoutMs);
    });
    const ping = db.pool.query(readinessProbe).then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([ping, timeout]);
    clearTimeout(timer);
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "database-unavailable" });
  });
  return health;
}
