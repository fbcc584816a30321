/**
 * The domain's one error type, and the one table from its codes to HTTP. The codes are tRPC's,
 * so the tRPC surface carries them unchanged, but for GONE, which tRPC lacks: the table names the
 * tRPC code it travels as, and the error's `data.code` and `httpStatus` still say GONE and 410.
 * The tRPC error formatter and the REST error middleware both read `ERROR_HTTP` for the status
 * and its headers. Nothing here imports tRPC.
 */
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_SUPPORTED"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "GONE"
  | "UNPROCESSABLE_CONTENT"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_UNAVAILABLE_SECONDS = 5;

/**
 * Each code's HTTP status, and what goes with it: a `WWW-Authenticate` challenge on 401, and
 * `Retry-After` on 503 (429 sets its own from the limiter).
 */
export const ERROR_HTTP = {
  BAD_REQUEST: { status: 400 },
  UNAUTHORIZED: { status: 401, challenge: true },
  FORBIDDEN: { status: 403 },
  NOT_FOUND: { status: 404 },
  METHOD_NOT_SUPPORTED: { status: 405 },
  CONFLICT: { status: 409 },
  PRECONDITION_FAILED: { status: 412 },
  // A change feed cursor older than the retained deletions: sync again from scratch.
  GONE: { status: 410, trpcCode: "BAD_REQUEST" },
  // An Idempotency-Key reused for a different request.
  UNPROCESSABLE_CONTENT: { status: 422 },
  PAYLOAD_TOO_LARGE: { status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { status: 415 },
  TOO_MANY_REQUESTS: { status: 429 },
  INTERNAL_SERVER_ERROR: { status: 500 },
  SERVICE_UNAVAILABLE: { status: 503, retryAfterSeconds: RETRY_AFTER_UNAVAILABLE_SECONDS },
  // tRPC's own, for input it cannot parse.
  PARSE_ERROR: { status: 400 },
} as const satisfies Record<
  AppErrorCode | "PARSE_ERROR",
  { status: number; challenge?: true; retryAfterSeconds?: number; trpcCode?: string }
>;

/** The HTTP status of a code from the table; a code outside it (tRPC's own) is a 500. */
export function httpStatusOf(code: string): number {
  return (ERROR_HTTP as Record<string, { status: number }>)[code]?.status ?? 500;
}

/**
 * The code the table gives a status (the first, so 400 is BAD_REQUEST rather than tRPC's
 * PARSE_ERROR): for failures raised outside the domain with only a status (Express, body-parser).
 */
export function codeOfStatus(status: number): AppErrorCode | undefined {
  for (const [code, rules] of Object.entries(ERROR_HTTP)) {
    if (rules.status === status) return code as AppErrorCode;
  }
  return undefined;
}

/** What an error names beyond its message: the failed operation of an atomic batch. */
export type ErrorDetails = { index: number };

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly details: ErrorDetails | undefined;
  /** When to try again (a Retry-After header), where the table gives none for the code. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: AppErrorCode,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
    this.details = options?.details;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The one message for a task that does not exist or is not the caller's: they must look alike. */
export const taskNotFound = () => new AppError("NOT_FOUND", "Task not found");

/** The same for a list: a list id of another user is not found either. */
export const listNotFound = () => new AppError("NOT_FOUND", "List not found");

/** How a stale expected version is answered: CONFLICT, or PRECONDITION_FAILED for If-Match. */
export type StaleCode = "CONFLICT" | "PRECONDITION_FAILED";

/** What a change to one task or list may require: its version, and how a stale one is answered. */
export type Expectation = { version?: number; staleCode?: StaleCode };

/** A task or list found at another version than the change expected. */
export const staleVersion = (what: "task" | "list", code: StaleCode = "CONFLICT") =>
  code === "CONFLICT"
    ? new AppError(
        "CONFLICT",
        `${what === "task" ? "Task" : "List"} was changed since that version; reload it and retry`,
      )
    : new AppError("PRECONDITION_FAILED", `If-Match does not match the ${what}'s ETag`);
