import { appRouter } from "@todo/api/router";
import { createContextInner } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import type { Logger } from "pino";
import { authOf } from "./http/authenticate.ts";
import { RETRY_AFTER_UNAVAILABLE_SECONDS, requestIdOf, wwwAuthenticate } from "./rest/envelope.ts";

export type TrpcOptions = { db: Db; logger: Logger; maxBodySize: number };

/** tRPC over HTTP at /trpc; the context is createContextInner plus the verified token. */
export function trpcHandler({ db, logger, maxBodySize }: TrpcOptions) {
  return createExpressMiddleware({
    router: appRouter,
    maxBodySize,
    // A frontend's httpBatchLink batches; a batch is bounded so one request cannot fan out.
    maxBatchSize: 10,
    createContext({ res }) {
      const auth = authOf(res);
      const requestId = requestIdOf(res);
      return "userId" in auth
        ? createContextInner({ db, user: { id: auth.userId }, requestId })
        : createContextInner({ db, user: null, authError: auth.error, requestId });
    },
    responseMeta({ errors }) {
      const headers: Record<string, string> = {};
      const unauthorized = errors.find((e) => e.code === "UNAUTHORIZED");
      if (unauthorized) headers["WWW-Authenticate"] = wwwAuthenticate(unauthorized.message);
      if (errors.some((e) => e.code === "SERVICE_UNAVAILABLE")) {
        headers["Retry-After"] = String(RETRY_AFTER_UNAVAILABLE_SECONDS);
      }
      return { headers };
    },
    onError({ error, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        logger.error({ requestId: ctx?.requestId, err: error.cause ?? error }, "unhandled error");
      }
    },
  });
}
