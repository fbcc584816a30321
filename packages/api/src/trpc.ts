import type { Db } from "@todo/db/client";
import { isDatabaseUnavailable } from "@todo/db/errors";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import { type Credentials, type Identity, identityOf } from "./auth/identity.ts";
import type { TokenVerifier } from "./auth/verifier.ts";
import {
  AppError,
  type AppErrorCode,
  ERROR_HTTP,
  type ErrorDetails,
  httpStatusOf,
} from "./errors.ts";
import { type KeyUse, once } from "./idempotency/idempotency.ts";
import type { LiveHub } from "./live/live.ts";
import type { Scope } from "./sql.ts";

export type Context = {
  db: Db;
  requestId: string;
  /**
   * Who the request's credentials say it is, verified on first use and at most once per request
   * (protectedProcedure asks; so may the HTTP layer before it, sharing the answer).
   */
  identify: Identity;
  /**
   * The version an HTTP `If-Match` precondition requires (REST). A procedure that changes a task
   * takes it as its expected version and answers a stale one with PRECONDITION_FAILED itself.
   */
  ifMatch?: number;
  /** The request's Idempotency-Key and what became of it (see idempotency.ts). */
  idempotency: KeyUse;
  /**
   * Charges the request's rate limit for more work than one call (a batch: one point per
   * operation); TOO_MANY_REQUESTS when over. Absent where the transport does not limit.
   */
  charge?: (points: number) => Promise<void>;
  /** This instance's live streams (task.onChange); absent where the server offers none. */
  live?: LiveHub;
};

export type ContextOptions = {
  db: Db;
  requestId?: string;
  ifMatch?: number;
  /** The Idempotency-Key header of a request that may change something. */
  idempotencyKey?: string;
  charge?: (points: number) => Promise<void>;
  live?: LiveHub;
} & (
  | {
      /** What the transport saw, verified here when first asked. */
      verifier: TokenVerifier;
      credentials: Credentials;
    }
  | {
      /** An identity the HTTP layer already holds for this request (it may have used it). */
      identify: Identity;
    }
);

/** The context without any transport: HTTP adapters build on it, tests call it directly. */
export function createContextInner(options: ContextOptions): Context {
  return {
    db: options.db,
    requestId: options.requestId ?? crypto.randomUUID(),
    ifMatch: options.ifMatch,
    idempotency: { header: options.idempotencyKey, replayed: false, used: false },
    charge: options.charge,
    live: options.live,
    identify:
      "identify" in options ? options.identify : identityOf(options.verifier, options.credentials),
  };
}

export const INTERNAL_MESSAGE = "Internal server error";
export const DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable; retry shortly";
export const INVALID_INPUT_MESSAGE = "Invalid input";

/** Field issues of a validation failure, in zod's flattened form. */
export type ValidationIssues = { formErrors: string[]; fieldErrors: Record<string, string[]> };

export function validationIssues(error: TRPCError): ValidationIssues | undefined {
  return error.cause instanceof ZodError ? z.flattenError(error.cause) : undefined;
}

/**
 * What an error names beyond its message: an atomic batch's failed operation, or the first
 * invalid operation of a batch (`ops.<index>…` in its validation issues).
 */
export function errorDetails(error: TRPCError): ErrorDetails | undefined {
  if (error.cause instanceof AppError) return error.cause.details;
  if (!(error.cause instanceof ZodError)) return undefined;
  for (const issue of error.cause.issues) {
    const [field, index] = issue.path;
    if (field === "ops" && typeof index === "number") return { index };
  }
  return undefined;
}

export const MALFORMED_JSON_MESSAGE = "Malformed JSON body";
export const MALFORMED_JSON_INPUT_MESSAGE = 'Malformed JSON in the "input" parameter';
export const BODY_TOO_LARGE_MESSAGE = "Request body too large";
export const JSON_ONLY_MESSAGE = "Send the body as application/json";
/** Calls one HTTP request may batch (the HTTP adapter's `maxBatchSize`). */
export const MAX_BATCH_SIZE = 10;

/**
 * What a client reads for errors raised by tRPC's own HTTP handling rather than by our code: the
 * same words the REST adapter uses, instead of a parser's or an internal text.
 */
function transportMessage(error: TRPCError, type: string): string | undefined {
  if (error.cause instanceof AppError) return undefined;
  if (error.cause instanceof SyntaxError) {
    return type === "query" ? MALFORMED_JSON_INPUT_MESSAGE : MALFORMED_JSON_MESSAGE;
  }
  if (error.code === "PAYLOAD_TOO_LARGE") return BODY_TOO_LARGE_MESSAGE;
  if (error.message === "Batch call exceeds maximum size") {
    return `At most ${MAX_BATCH_SIZE} calls per batch`;
  }
  if (error.code === "UNSUPPORTED_MEDIA_TYPE") return JSON_ONLY_MESSAGE;
  return undefined;
}

// Errors tRPC raises before a context exists (a body that is not JSON, too many calls in a batch)
// get their request id from the HTTP adapter, which knows it, through this map.
const requestIdOfError = new WeakMap<object, string>();

/** Gives an error raised before the context existed the request id its answer should carry. */
export function tagRequestId(error: TRPCError, requestId: string): void {
  requestIdOfError.set(error, requestId);
}

/** Live streams (SSE) send a comment at least this often, so proxies keep them open. */
export const STREAM_HEARTBEAT_MS = 15_000;

const t = initTRPC.context<Context>().create({
  sse: {
    ping: { enabled: true, intervalMs: STREAM_HEARTBEAT_MS },
    // A stream silent for longer than two heartbeats is dead: the client reconnects.
    client: { reconnectAfterInactivityMs: 2 * STREAM_HEARTBEAT_MS + 5_000 },
  },
  errorFormatter({ shape, error, type, ctx }) {
    const { stack: _stack, ...data } = shape.data;
    const issues = validationIssues(error);
    // Nothing internal (stack, SQL, driver text) ever reaches a client.
    const message =
      error.code === "INTERNAL_SERVER_ERROR"
        ? INTERNAL_MESSAGE
        : issues
          ? INVALID_INPUT_MESSAGE
          : (transportMessage(error, type) ?? shape.message);
    const requestId = ctx?.requestId ?? requestIdOfError.get(error);
    // The domain's code (GONE travels as another tRPC code) and what it names (a batch's index).
    const app = error.cause instanceof AppError ? error.cause : undefined;
    const code: AppErrorCode | typeof data.code = app?.code ?? data.code;
    const httpStatus = httpStatusOf(code);
    return {
      ...shape,
      message,
      data: { ...data, code, httpStatus, issues, requestId, ...errorDetails(error) },
    };
  },
});

/** AppError's codes are tRPC's (GONE travels as the one the table names): wrap it. */
export function toTRPCError(error: AppError): TRPCError {
  const rules = ERROR_HTTP[error.code];
  const code = "trpcCode" in rules ? rules.trpcCode : (error.code as Exclude<AppErrorCode, "GONE">);
  return new TRPCError({ code, message: error.message, cause: error });
}

/**
 * A failure as clients see it. Domain functions throw AppError; this is where the tRPC surface
 * translates them, and where a database that cannot answer becomes a 503 (retry later) instead of
 * a 500 (our bug). Anything else stays as tRPC made it (an internal error keeps its generic
 * message).
 */
function clientError(cause: unknown): TRPCError | undefined {
  if (cause instanceof AppError) return toTRPCError(cause);
  if (isDatabaseUnavailable(cause)) {
    return toTRPCError(
      new AppError("SERVICE_UNAVAILABLE", DATABASE_UNAVAILABLE_MESSAGE, { cause }),
    );
  }
  const refused = refusedByDatabase(cause);
  return refused && toTRPCError(refused);
}

/**
 * The database's own refusals that a client's request can meet only in a race (the domain checks
 * the same rules first): a rule of lists and subtasks (migration lists_rules) is a 400, two
 * writers waiting for each other (one is chosen to fail) a 409 to retry.
 */
const RULES: Record<string, string> = {
  tasks_subtask_parent: "parentId: the parent must be a live top-level task of the same list",
  tasks_subtask_depth: "A task with subtasks cannot become a subtask",
  lists_keep_inbox: "The Inbox (the default list) cannot be deleted",
};
function refusedByDatabase(cause: unknown): AppError | undefined {
  if (!(cause instanceof Error)) return undefined;
  const { code, constraint } = cause as { code?: string; constraint?: string };
  if (code === "23514" && constraint && RULES[constraint]) {
    return new AppError("BAD_REQUEST", RULES[constraint], { cause });
  }
  if (code === "40P01" || code === "40001") {
    return new AppError("CONFLICT", "The change met a concurrent one; retry", { cause });
  }
  return undefined;
}

/** A middleware's result, with a failure's cause mapped as clientError says. */
function mapped<R extends { ok: true } | { ok: false; error: TRPCError }>(result: R): R {
  if (result.ok) return result;
  const error = clientError((result as { error: TRPCError }).error.cause);
  if (error) throw error;
  return result;
}

const appErrors = t.middleware(async ({ next }) => mapped(await next()));

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);

/**
 * The one place a request's identity is established: the token is verified (once per request)
 * and its subject becomes `ctx.userId`; without a valid token, 401 (400 if ambiguous). It maps
 * errors as publicProcedure's middleware does, in the same step: every middleware is a level of
 * tRPC's call chain, paid by every call.
 */
export const protectedProcedure = t.procedure.use(async ({ ctx, next }) => {
  let userId: string;
  try {
    ({ userId } = await ctx.identify());
  } catch (error) {
    throw clientError(error) ?? error;
  }
  // Only what is added: tRPC merges it into the context it already has.
  return mapped(await next({ ctx: { userId } }));
});

/** What a protected procedure's resolver gets as its context. */
export type ProtectedContext = Context & { userId: string };

/** The caller's scope for a domain function: the pool, and the caller's id. */
export const scopeOf = (ctx: ProtectedContext): Scope => ({ db: ctx.db, userId: ctx.userId });

/**
 * Runs a mutation's work: at most once per Idempotency-Key when the request carries one (the same
 * request again gets the first answer), and in a transaction with the kept answer.
 */
export function mutate<T>(
  ctx: ProtectedContext,
  call: { path: string; input: unknown },
  work: (scope: Scope) => Promise<T>,
): Promise<T> {
  return once(scopeOf(ctx), ctx.idempotency, { ...call, ifMatch: ctx.ifMatch }, work);
}
