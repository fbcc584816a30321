/**
 * The database every command uses when neither DIRECT_URL nor DATABASE_URL is set: a local
 * PostgreSQL as its default superuser, database `todo` (created by `pnpm db:migrate`).
 */
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/todo";

/** The same server's maintenance database, where databases are created and dropped. */
export const DEFAULT_ADMIN_URL = new URL("/postgres", DEFAULT_DATABASE_URL).toString();
