import { randomUUID } from "node:crypto";
import type { TokenVerifier } from "@todo/api/auth";
import type { Db } from "@todo/db/client";
import express, { type RequestHandler } from "express";
import type { Logger } from "pino";
import { errorHandler, notFound } from "./rest/errors.ts";
import { restRouter } from "./rest/tasks.ts";
import { trpcHandler } from "./trpc-handler.ts";

export type AppOptions = { db: Db; verifier: TokenVerifier; logger: Logger };

const BODY_LIMIT_BYTES = 256 * 1024;
const INBOUND_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Every response carries a request id: the caller's, if it is a sane one, or a fresh UUID.
const requestId: RequestHandler = (req, res, next) => {
  const inbound = req.get("x-request-id");
  const id = inbound && INBOUND_REQUEST_ID.test(inbound) ? inbound : randomUUID();
  res.locals.requestId = id;
  res.setHeader("X-Request-Id", id);
  next();
};

/** The HTTP application: tRPC at /trpc, the REST adapter at /api, health at /health. */
export function createApp({ db, verifier, logger }: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(requestId);

  app.get("/health/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/health/ready", async (_req, res) => {
    try {
      await db.$queryRaw`SELECT 1`;
      res.json({ status: "ok" });
    } catch {
      res.status(503).json({ status: "unavailable" });
    }
  });

  app.use("/trpc", trpcHandler({ db, verifier, logger, maxBodySize: BODY_LIMIT_BYTES }));
  app.use("/api", restRouter({ db, verifier, bodyLimit: `${BODY_LIMIT_BYTES}b` }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
