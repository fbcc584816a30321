import type { TokenVerifier } from "@todo/api/auth";
import type { LiveHub } from "@todo/api/live";
import { redeem } from "@todo/api/live/tickets";
import type { Db } from "@todo/db/client";
import cors from "cors";
import express, { type RequestHandler, type Response } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import swaggerUi from "swagger-ui-express";
import { identifyRequest } from "./http/authenticate.ts";
import { requestDeadline } from "./http/deadline.ts";
import { errorHandler, notFound } from "./http/errors.ts";
import { fixedHeaders } from "./http/fixed-headers.ts";
import { healthRouter } from "./http/health.ts";
import { requestLogging } from "./http/logging.ts";
import type { Metrics } from "./http/metrics.ts";
import { openApiDocument } from "./rest/openapi.ts";
import { restRouter } from "./rest/tasks.ts";
import { trpcHandler } from "./trpc/handler.ts";

export type AppOptions = {
  db: Db;
  verifier: TokenVerifier;
  logger: Logger;
  /** Applied after authentication (limits are per user); none when omitted. */
  rateLimit?: RequestHandler;
  /** Browser origins allowed to call the API; none by default. */
  corsOrigins?: readonly string[];
  requestTimeoutMs?: number;
  isShuttingDown?: () => boolean;
  /** Prometheus metrics at /metrics; none when omitted. */
  metrics?: Metrics;
  /** Live update streams (task.onChange, GET …/tasks/events); none offered when omitted. */
  live?: LiveHub;
  /**
   * Filled with the responses of open event streams, for shutdown to close what a client keeps
   * open after its stream's last event (a tRPC client told to reconnect holds its connection).
   */
  eventStreams?: Set<Response>;
};

export const BODY_LIMIT_BYTES = 256 * 1024;

/** The HTTP application: tRPC at /trpc, the REST adapter at /api, health at /health. */
export function createApp(options: AppOptions): express.Express {
  const { db, verifier, logger } = options;
  const app = express();
  app.disable("x-powered-by");
  // No automatic weak ETag on every JSON answer (a hash of each body): a task's ETag is its version.
  app.set("etag", false);
  app.set("query parser", "simple");

  app.use(requestLogging(logger));
  if (options.metrics) app.use(options.metrics.middleware);
  // Helmet's defaults, but no `upgrade-insecure-requests`: behind TLS it changes nothing, and over
  // plain HTTP on any address but localhost (a compose stack opened from another machine) it sends
  // the docs page's own assets to https:// and leaves the page blank.
  app.use(
    fixedHeaders(
      helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }),
    ),
  );
  // After the headers, so that /metrics carries them like every other answer.
  if (options.metrics) app.get("/metrics", options.metrics.handler);
  // Shutting down: every answer closes its connection, so clients (a live stream reconnecting)
  // go to another instance instead of holding this one open on a kept-alive connection. (Ending
  // the socket, not only the header: tRPC's event streams send `Connection: keep-alive`.)
  if (options.isShuttingDown) {
    const closing = options.isShuttingDown;
    app.use((req, res, next) => {
      if (closing()) {
        res.setHeader("Connection", "close");
        res.once("finish", () => req.socket.end());
      }
      next();
    });
  }
  // No origins configured: no CORS middleware at all (the same answers as cors({ origin: false }),
  // without its work on every request).
  if (options.corsOrigins?.length) {
    app.use(
      cors({
        origin: [...options.corsOrigins],
        allowedHeaders: [
          "Authorization",
          "Content-Type",
          "If-Match",
          "Idempotency-Key",
          "X-Request-Id",
          "trpc-accept",
        ],
        exposedHeaders: [
          "X-Request-Id",
          "ETag",
          "Location",
          "Idempotent-Replayed",
          "Retry-After",
          "RateLimit-Limit",
          "RateLimit-Remaining",
          "RateLimit-Reset",
        ],
        maxAge: 600,
      }),
    );
  }

  app.use(
    "/health",
    healthRouter({
      db,
      isShuttingDown: options.isShuttingDown ?? (() => false),
      readinessTimeoutMs: 1_000,
    }),
  );

  // The REST adapter's contract, and a page to read and try it.
  const spec = openApiDocument();
  app.get("/api/openapi.json", (_req, res) => {
    res.json(spec);
  });
  app.use("/docs", swaggerUi.serve, swaggerUi.setup(spec, { customSiteTitle: "Todo API" }));

  const surfaces = ["/api", "/trpc"];
  const { eventStreams } = options;
  if (eventStreams) {
    const forget = function (this: Response) {
      eventStreams.delete(this);
    };
    app.use(surfaces, (req, res, next) => {
      if (req.headers.accept?.includes("text/event-stream")) {
        eventStreams.add(res);
        res.on("close", forget);
      }
      next();
    });
  }
  app.use(surfaces, requestDeadline(options.requestTimeoutMs ?? 15_000));
  // A stream ticket is a credential only where live streams are offered.
  const redeemTicket = options.live ? (ticket: string) => redeem(db, ticket) : undefined;
  app.use(surfaces, identifyRequest(verifier, redeemTicket));
  if (options.rateLimit) app.use(surfaces, options.rateLimit);
  app.use(
    "/trpc",
    trpcHandler({
      db,
      logger,
      maxBodySize: BODY_LIMIT_BYTES,
      live: options.live,
      verifier,
      redeem: redeemTicket,
    }),
  );
  app.use("/api", restRouter({ db, bodyLimit: `${BODY_LIMIT_BYTES}b`, live: options.live }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
