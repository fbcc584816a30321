/**
 * The domain's one error type. Its codes are a subset of tRPC's, so the tRPC layer and the REST
 * adapter translate them to HTTP with tRPC's own table (getHTTPStatusCodeFromError) and nothing
 * here imports tRPC.
 */
export type AppErrorCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "PRECONDITION_FAILED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "TOO_MANY_REQUESTS"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

export class AppError extends Error {
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AppError";
    this.code = code;
  }
}

/** The one message for a task that does not exist or is not the caller's: they must look alike. */
export const taskNotFound = () => new AppError("NOT_FOUND", "Task not found");
