import type { TokenVerifier } from "@todo/api/auth";
import { identityOf } from "@todo/api/auth/identity";
import type { RequestHandler } from "express";
import "./locals.ts";

/**
 * Gives the request its identity: every Authorization header it carried and the verifier, checked
 * on first use (the rate limit, the REST path's user id or protectedProcedure, whichever asks
 * first) and never twice. Nothing is verified or answered here, so unknown routes still 404.
 */
export function identifyRequest(verifier: TokenVerifier): RequestHandler {
  return (req, res, next) => {
    res.locals.identify = identityOf(
      verifier,
      { authorization: req.headersDistinct.authorization ?? [] },
      (token) => {
        res.locals.userId = token.userId;
      },
    );
    next();
  };
}
