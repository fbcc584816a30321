// One listening connection per server instance (never one per stream): LISTEN task_changes, and
// each notification wakes the streams of the user it names. LISTEN holds a session, so this needs
// a direct connection: on Neon the unpooled URL (DIRECT_URL), never the pooler's. When the
// connection drops it is opened again with a growing delay, and every stream then catches up
// from the feed, so a notification lost meanwhile costs only time.
import type { LiveHub } from "@todo/api/live";
import pg from "pg";
import type { Logger } from "pino";

export const CHANGES_CHANNEL = "task_changes";

/** A notification's payload: the user, the writing transaction, when it began (ms). */
export function parseNotification(payload: string | undefined) {
  try {
    const { u, t } = JSON.parse(payload ?? "") as { u?: unknown; t?: unknown };
    if (typeof u !== "string") return undefined;
    return { userId: u, startedAt: typeof t === "number" ? t : undefined };
  } catch {
    return undefined;
  }
}

export type ChangeListener = {
  /** Resolves once the first LISTEN is in place (or failed: it keeps retrying). */
  ready: Promise<void>;
  /** How many times the connection was (re)established. */
  connections: () => number;
  stop: () => Promise<void>;
};

const HEALTH_CHECK_MS = 30_000;

export function listenForChanges(options: {
  url: string;
  hub: LiveHub;
  logger: Logger;
}): ChangeListener {
  const { url, hub, logger } = options;
  let client: pg.Client | undefined;
  let stopped = false;
  let connections = 0;
  let retryMs = 100;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let healthTimer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const drop = (current: pg.Client, reason: unknown) => {
    if (client !== current) return;
    client = undefined;
    clearInterval(healthTimer);
    current.removeAllListeners("notification");
    current.end().catch(() => {});
    if (stopped) return;
    logger.warn({ err: reason }, "Change listener lost its connection; reconnecting");
    reconnectTimer = setTimeout(connect, retryMs);
    reconnectTimer.unref();
    retryMs = Math.min(retryMs * 2, 5_000);
  };

  const connect = async () => {
    if (stopped) return;
    const current = new pg.Client({
      connectionString: url,
      keepAlive: true,
      application_name: "todo-listener",
    });
    client = current;
    current.on("error", (error) => drop(current, error));
    current.on("end", () => drop(current, new Error("connection ended")));
    current.on("notification", (message) => {
      const wake = parseNotification(message.payload);
      if (wake) hub.publish(wake);
    });
    try {
      await current.connect();
      await current.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      drop(current, error);
      markReady();
      return;
    }
    if (client !== current) return;
    connections++;
    retryMs = 100;
    // Whatever committed while nobody listened: every stream reads from its cursor.
    if (connections > 1) {
      logger.info("Change listener reconnected; streams catch up from the feed");
      hub.wakeAll();
    }
    // A connection that died silently (no FIN, no RST) is found within this, not never.
    healthTimer = setInterval(() => {
      current.query("SELECT 1").catch((error) => drop(current, error));
    }, HEALTH_CHECK_MS);
    healthTimer.unref();
    markReady();
  };

  void connect();
  return {
    ready,
    connections: () => connections,
    stop: async () => {
      stopped = true;
      clearTimeout(reconnectTimer);
      clearInterval(healthTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
