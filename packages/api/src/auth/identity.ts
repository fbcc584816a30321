import { AppError } from "../errors.ts";
import { authenticate, type TokenVerifier, type VerifiedToken } from "./verifier.ts";

/**
 * What a request presented to prove who it is: every Authorization header it carried, and a
 * stream ticket where a live stream takes one (a browser's EventSource cannot send headers).
 */
export type Credentials = { authorization: readonly string[]; ticket?: string };

/** How a ticket is used up, giving the identity it was issued for (see live/tickets.ts). */
export type TicketRedeemer = (ticket: string) => Promise<VerifiedToken>;

/**
 * A request's identity, established on first use and shared after: however many procedures a
 * batch calls, and whatever the HTTP layer checks first (a path's user id, a rate limit), the
 * token is verified once. Rejects with the AppError to answer (401, or 400 for ambiguity).
 */
export type Identity = () => Promise<VerifiedToken>;

export const AMBIGUOUS_CREDENTIALS_MESSAGE = "Send exactly one Authorization header";

export const TOKEN_IN_URL_MESSAGE =
  "A bearer token is never accepted in a URL: send it in the Authorization header";

/**
 * Whether a URL parameter is named like a bearer token (`token`, `access_token`, …): refused on
 * every surface, since URLs reach logs and browser histories.
 */
export const isTokenParameter = (name: string): boolean => /token|authorization|bearer/i.test(name);

/** The memoised identity of one request's credentials; `onVerified` hears the subject once. */
export function identityOf(
  verifier: TokenVerifier,
  credentials: Credentials,
  options: { onVerified?: (token: VerifiedToken) => void; redeem?: TicketRedeemer } = {},
): Identity {
  let verified: Promise<VerifiedToken> | undefined;
  return () => {
    verified ??= verify(verifier, credentials, options.redeem).then((token) => {
      options.onVerified?.(token);
      return token;
    });
    return verified;
  };
}

async function verify(
  verifier: TokenVerifier,
  { authorization, ticket }: Credentials,
  redeem: TicketRedeemer | undefined,
) {
  // Which one would count is anyone's guess (proxies keep the first or the last): refuse both.
  if (authorization.length > 1) throw new AppError("BAD_REQUEST", AMBIGUOUS_CREDENTIALS_MESSAGE);
  if (ticket !== undefined) {
    if (authorization.length > 0) {
      throw new AppError(
        "BAD_REQUEST",
        "Send an Authorization header or a stream ticket, not both",
      );
    }
    if (redeem) return redeem(ticket);
  }
  return authenticate(verifier, authorization[0]);
}

/**
 * Authorization headers from a Fetch `Headers` value, where repeated headers arrive joined with
 * ", ": a bearer token never contains a comma, so each ", <scheme> " starts another header.
 */
export function authorizationHeaders(joined: string | null | undefined): string[] {
  if (joined === null || joined === undefined) return [];
  return joined.split(/,\s*(?=[A-Za-z][\w-]*\s)/);
}
