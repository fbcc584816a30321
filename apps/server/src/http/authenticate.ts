import type { TokenVerifier } from "@todo/api/auth";
import {
  identityOf,
  isTokenParameter,
  type TicketRedeemer,
  TOKEN_IN_URL_MESSAGE,
} from "@todo/api/auth/identity";
import type { RequestHandler } from "express";
import { sendFailure } from "./answers.ts";
import "./locals.ts";

/**
 * Whether a URL's query string has a parameter named like a bearer token (`token`,
 * `access_token`, …, its name percent-decoded). Read from the raw URL: no parsing for the many
 * requests without a query string.
 */
export function hasTokenParameter(url: string): boolean {
  const start = url.indexOf("?");
  if (start === -1) return false;
  for (const pair of url.slice(start + 1).split("&")) {
    const end = pair.indexOf("=");
    const raw = (end === -1 ? pair : pair.slice(0, end)).replaceAll("+", " ");
    let name = raw;
    try {
      name = decodeURIComponent(raw);
    } catch {
      // Malformed percent-encoding: judged as written.
    }
    if (isTokenParameter(name)) return true;
  }
  return false;
}

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
    // A token is never taken from a URL (URLs reach logs, proxies and browser histories): a
    // request that puts one there is refused on both surfaces, whatever else it asks, rather than
    // answered with the token ignored.
    if (hasTokenParameter(req.url)) {
      sendFailure(req, res, { status: 400, code: "BAD_REQUEST", message: TOKEN_IN_URL_MESSAGE });
      return;
    }
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
