import { authenticate, type TokenVerifier } from "@todo/api/auth";
import { AppError } from "@todo/api/errors";
import { appRouter } from "@todo/api/router";
import { createContextInner } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import type { Logger } from "pino";
import { requestIdOf, wwwAuthenticate } from "./rest/envelope.ts";

export type TrpcOptions = { db: Db; verifier: TokenVerifier; logger: Logger; maxBodySize: number };

/** tRPC over HTTP at /trpc; the context is createContextInner plus the verified token. */
export function trpcHandler({ db, verifier, logger, maxBodySize }: TrpcOptions) {
  return createExpressMiddleware({
    router: appRouter,
    maxBodySize,
    // A frontend's httpBatchLink batches; a batch is bounded so one request cannot fan out.
    maxBatchSize: 10,
    async createContext({ req, res }) {
      const requestId = requestIdOf(res);
      try {
        const { userId } = await authenticate(verifier, req.headers.authorization);
        return createContextInner({ db, user: { id: userId }, requestId });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return createContextInner({ db, user: null, authError: error, requestId });
      }
    },
    responseMeta({ errors }) {
      const unauthorized = errors.find((e) => e.code === "UNAUTHORIZED");
      return unauthorized
        ? { headers: { "WWW-Authenticate": wwwAuthenticate(unauthorized.message) } }
        : {};
    },
    onError({ error, ctx }) {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        logger.error({ requestId: ctx?.requestId, err: error.cause ?? error }, "unhandled error");
      }
    },
  });
}
