// What every domain's sql.ts shares: the statement type and how PostgreSQL shapes values for the
// wire. The rule for which operations are SQL is in docs/decisions/0003-hot-queries-sql.md.

/** A named prepared statement for pg: parsed and planned once per pooled connection. */
export type Statement = { name: string; text: string; values: unknown[] };

/** Date.prototype.toISOString's format, computed by PostgreSQL. */
export const iso = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
