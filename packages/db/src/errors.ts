import { Prisma } from "./generated/prisma/client.ts";

// Prisma codes for "the database cannot be reached or did not answer in time".
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
// Driver adapter error kinds for the same.
const UNAVAILABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TlsConnectionError",
]);
// PostgreSQL SQLSTATEs: statement timeout / cancel, too many connections, shutting down, and the
// whole "connection exception" class (08xxx).
const UNAVAILABLE_SQLSTATES = new Set(["57014", "53300", "57P01", "57P02", "57P03"]);
const UNAVAILABLE_SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]);
const UNAVAILABLE_MESSAGES = [
  "timeout exceeded when trying to connect", // pg-pool: no connection free in time
  "Connection terminated", // pg: the server went away
];

type AdapterCause = { kind?: string; code?: string; originalCode?: string };

/**
 * True when an error means the database is unreachable, overloaded or too slow (a 503 with
 * Retry-After for the client), as opposed to a bug or a bad query (a 500).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNAVAILABLE_PRISMA_CODES.has(error.code)) return true;
    const cause = (error.meta?.driverAdapterError as { cause?: AdapterCause } | undefined)?.cause;
    if (cause?.kind && UNAVAILABLE_KINDS.has(cause.kind)) return true;
    const sqlState = cause?.originalCode ?? cause?.code;
    return !!sqlState && (UNAVAILABLE_SQLSTATES.has(sqlState) || sqlState.startsWith("08"));
  }
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  // pg's own DatabaseError (queries sent through the pool, not through Prisma).
  if (code && (UNAVAILABLE_SQLSTATES.has(code) || code.startsWith("08"))) return true;
  return UNAVAILABLE_MESSAGES.some((m) => error.message.includes(m));
}
