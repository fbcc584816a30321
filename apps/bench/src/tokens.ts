// One pre-signed token per dataset user, signed once per run and read by every generator process
// (signing 10,000 tokens in each of them took seconds on a slow core).
import { readFileSync, writeFileSync } from "node:fs";
import jwt from "jsonwebtoken";
import { userIdOf } from "./dataset.ts";

/** Writes the tokens of users 1..count (valid for `hours`) as a JSON array to `file`. */
export function writeTokens(file: string, secret: string, count: number, hours = 3): void {
  const tokens = Array.from({ length: count }, (_, i) =>
    jwt.sign({ sub: userIdOf(i + 1) }, secret, { algorithm: "HS256", expiresIn: hours * 3600 }),
  );
  writeFileSync(file, JSON.stringify(tokens));
}

/** The token of user n (1-based), from a file written by writeTokens. */
export function readTokens(file: string): (n: number) => string {
  const tokens = JSON.parse(readFileSync(file, "utf8")) as string[];
  return (n) => {
    const token = tokens[n - 1];
    if (!token) throw new Error(`no token for user ${n} in ${file}`);
    return token;
  };
}
