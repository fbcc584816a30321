import { purgeExpired } from "@todo/api/housekeeping";
import type { Db } from "@todo/db/client";
import type { Logger } from "pino";

export type HousekeepingOptions = {
  db: Db;
  logger: Logger;
  retentionDays: number;
  intervalMs: number;
  /** Before the first round: a server that restarts often still purges, but not at once. */
  firstDelayMs?: number;
};

/**
 * Purges expired tombstones and Idempotency-Key answers every `intervalMs` (one instance at a time
 * across the fleet, see purgeExpired). A failed round (the database down) is logged and retried
 * at the next. The timers never keep the process alive; `stop` waits for a round in progress.
 */
export function startHousekeeping(options: HousekeepingOptions): { stop: () => Promise<void> } {
  const { db, logger, retentionDays, intervalMs } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const round = async () => {
    try {
      const purged = await purgeExpired(db, { retentionDays });
      if (Object.values(purged).some((count) => count > 0)) {
        logger.info({ purged }, "Purged expired tombstones, idempotency keys and stream tickets");
      }
    } catch (err) {
      logger.warn({ err }, "Purge failed; retrying at the next round");
    }
  };
  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? Math.min(intervalMs, 60_000));

  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
