import type { TokenVerifier } from "@todo/api/auth";
import {
  type Identity,
  identityOf,
  isTokenParameter,
  type TicketRedeemer,
  TOKEN_IN_URL_MESSAGE,
} from "@todo/api/auth/identity";
import { AppError, httpStatusOf } from "@todo/api/errors";
import { ONE_CALL_PER_KEY_MESSAGE } from "@todo/api/idempotency";
import type { LiveHub } from "@todo/api/live";
import { appRouter } from "@todo/api/router";
import { createContextInner, MAX_BATCH_SIZE, tagRequestId } from "@todo/api/trpc";
import type { Db } from "@todo/db/client";
import { TRPCError } from "@trpc/server";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import type { Logger } from "pino";
import { httpRulesOf, requestIdOf, wwwAuthenticate } from "../http/answers.ts";
import { authorizationOf } from "../http/authenticate.ts";

export type TrpcOptions = {
  db: Db;
  logger: Logger;
  maxBodySize: number;
  live?: LiveHub;
  /** With `redeem`: a subscription's identity from a stream ticket in its connectionParams. */
  verifier?: TokenVerifier;
  redeem?: TicketRedeemer;
};

/** The identity a subscription's connectionParams carry (a stream ticket), if any. */
function ticketIdentity(
  connectionParams: Record<string, unknown> | null | undefined,
  rawHeaders: string[],
  { verifier, redeem }: Pick<TrpcOptions, "verifier" | "redeem">,
  onVerified: (token: { userId: string }) => void,
): Identity | undefined {
  if (!connectionParams) return undefined;
  // connectionParams travel in the URL, where a bearer token never goes.
  if (Object.keys(connectionParams).some(isTokenParameter)) {
    throw new TRPCError({ code: "BAD_REQUEST", message: TOKEN_IN_URL_MESSAGE });
  }
  const { ticket } = connectionParams;
  if (typeof ticket !== "string" || !verifier || !redeem) return undefined;
  return identityOf(
    verifier,
    { authorization: authorizationOf(rawHeaders), ticket },
    { redeem, onVerified },
  );
}

/** tRPC over HTTP at /trpc; the context is createContextInner with the request's identity. */
export function trpcHandler({ db, logger, maxBodySize, live, verifier, redeem }: TrpcOptions) {
  return createExpressMiddleware({
    router: appRouter,
    maxBodySize,
    // A frontend's httpBatchLink batches; a batch is bounded so one request cannot fan out.
    maxBatchSize: MAX_BATCH_SIZE,
    createContext({ req, res, info }) {
      // A key covers one call: a batch of several with one key is refused before any of it runs.
      if (req.method === "POST" && info.calls.length > 1 && req.get("idempotency-key")) {
        throw new TRPCError({ code: "BAD_REQUEST", message: ONE_CALL_PER_KEY_MESSAGE });
      }
      const fromTicket = ticketIdentity(
        info.connectionParams,
        req.rawHeaders,
        { verifier, redeem },
        (token) => {
          res.locals.userId = token.userId;
        },
      );
      return createContextInner({
        db,
        identify: fromTicket ?? res.locals.identify,
        requestId: requestIdOf(res),
        // Mutations come as POST; a key on a query is ignored (a query changes nothing).
        idempotencyKey: req.method === "POST" ? req.get("idempotency-key") : undefined,
        charge: res.locals.charge,
        live,
      });
    },
    responseMeta({ ctx, errors, info }) {
      const headers: Record<string, string> = {};
      if (ctx?.idempotency.replayed) headers["Idempotent-Replayed"] = "true";
      // One call, one error: the status the error table gives its domain code (GONE is 410,
      // though it travels as a tRPC code of 400).
      const only = errors.length === 1 && info?.calls.length === 1 ? errors[0] : undefined;
      const status = only?.cause instanceof AppError ? httpStatusOf(only.cause.code) : undefined;
      if (only?.cause instanceof AppError && only.cause.retryAfterSeconds !== undefined) {
        headers["Retry-After"] = String(only.cause.retryAfterSeconds);
      }
      // An error answered before the context existed would otherwise go out as text/plain.
      if (!ctx && errors.length > 0) headers["Content-Type"] = "application/json";
      // The headers the one error table (ERROR_HTTP) asks for, as the REST adapter sends them.
      for (const error of errors) {
        const rules = httpRulesOf(error.code);
        if (rules?.challenge) headers["WWW-Authenticate"] = wwwAuthenticate(error.message);
        if (rules?.retryAfterSeconds !== undefined) {
          headers["Retry-After"] = String(rules.retryAfterSeconds);
        }
      }
      return status === undefined ? { headers } : { headers, status };
    },
    onError({ error, ctx, req }) {
      if (!ctx && req.res) tagRequestId(error, requestIdOf(req.res));
      if (error.code === "INTERNAL_SERVER_ERROR") {
        const requestId = ctx?.requestId ?? (req.res ? requestIdOf(req.res) : undefined);
        logger.error({ requestId, err: error.cause ?? error }, "unhandled error");
      }
    },
  });
}
