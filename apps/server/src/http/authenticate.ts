import type { TokenVerifier } from "@todo/api/auth";
import { identityOf, type TicketRedeemer } from "@todo/api/auth/identity";
import type { RequestHandler } from "express";
import "./locals.ts";

/**
 * Every Authorization header a request carried, in order. Node keeps only the first in
 * `req.headers`, and `req.headersDistinct` builds an array for every header of every request, so
 * the raw name/value list is scanned for this one name.
 */
export function authorizationOf(rawHeaders: readonly string[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 13 && name.toLowerCase() === "authorization") {
      found.push(rawHeaders[i + 1] as string);
    }
  }
  return found;
}

/**
 * Gives the request its identity: every Authorization header it carried and the verifier, checked
 * on first use (the rate limit, the REST path's user id or protectedProcedure, whichever asks
 * first) and never twice. Nothing is verified or answered here, so unknown routes still 404.
 */
export function identifyRequest(verifier: TokenVerifier, redeem?: TicketRedeemer): RequestHandler {
  return (req, res, next) => {
    // A stream ticket counts only where a browser's EventSource needs one: the REST live stream.
    const ticket =
      redeem &&
      req.method === "GET" &&
      STREAM_PATH.test(req.path) &&
      typeof req.query.ticket === "string"
        ? req.query.ticket
        : undefined;
    res.locals.identify = identityOf(
      verifier,
      { authorization: authorizationOf(req.rawHeaders), ticket },
      {
        onVerified: (token) => {
          res.locals.userId = token.userId;
        },
        redeem,
      },
    );
    next();
  };
}

/** The REST live stream's path, below /api, as Express's routes match it (any case, a slash after). */
const STREAM_PATH = /^\/[^/]+\/tasks\/events\/?$/i;
