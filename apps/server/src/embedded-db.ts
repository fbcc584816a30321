import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export type EmbeddedPostgres = { url: string; dataPath: string; stop: () => Promise<void> };

/**
 * PostgreSQL compiled to WebAssembly, in this process, persisted under `dataDir`, served on a
 * loopback port so Prisma and its migrations talk to it as to any PostgreSQL. One backend runs
 * queries one at a time: fine for trying the product, not for load.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dataPath = join(dataDir, "pglite");
  await mkdir(dataPath, { recursive: true });
  const db = await PGlite.create(dataPath);
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 16 });
  await server.start();
  const conn = server.getServerConn();
  const port = Number(conn.slice(conn.lastIndexOf(":") + 1));
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    dataPath,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
