// What the HTTP layer keeps per request in `res.locals`, typed once for every middleware.
import type { Identity } from "@todo/api/auth/identity";
import type { KeyUse } from "@todo/api/idempotency";
import type { Context } from "@todo/api/trpc";

declare global {
  namespace Express {
    interface Locals {
      /** The request's id: X-Request-Id, every log line, every error body. */
      requestId: string;
      /** When the request arrived (performance.now()): its log line and duration metric. */
      startedAt: number;
      /** The request's log line has been written. */
      logged?: boolean;
      /** The request's deadline timer (see requestDeadline); cleared when it ends. */
      deadline?: NodeJS.Timeout;
      /** The request's identity, verified on first use and at most once (see identityOf). */
      identify: Identity;
      /** The verified subject, once the identity has been asked for and proved valid (logs). */
      userId?: string;
      /** Charges the rate limit more points (a batch's operations); absent without limits. */
      charge?: (points: number) => Promise<void>;
      /** The request's Idempotency-Key and whether its answer is a replay (REST adapter). */
      idempotency: KeyUse;
      /** The procedures' context for this request's identity (the REST adapter's calls). */
      context: Context;
    }
  }
}
