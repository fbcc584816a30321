import { authenticate, type TokenVerifier, type VerifiedToken } from "@todo/api/auth";
import { AppError } from "@todo/api/errors";
import type { RequestHandler, Response } from "express";

/** The outcome of reading a request's bearer token, for every later step to use. */
export type RequestAuth = VerifiedToken | { error: AppError };

export const authOf = (res: Response) => res.locals.auth as RequestAuth;

/**
 * Verifies the bearer token once per request, before rate limiting and routing, so that limits
 * are per user and neither surface verifies twice. A refused token is recorded, not answered: the
 * REST routes and protectedProcedure answer it (401), and unknown routes still 404.
 */
export function authenticateRequest(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    try {
      res.locals.auth = await authenticate(verifier, req.headers.authorization);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.locals.auth = { error } satisfies RequestAuth;
    }
    next();
  };
}
