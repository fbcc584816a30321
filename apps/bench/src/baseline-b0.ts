// Baseline B0: plain node:http + pg with named prepared statements, no framework, no auth. The
// floor the product is measured against. Env: DATABASE_URL, PORT (0: any).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import {
  createTask,
  LIST,
  listPage,
  MoveRefused,
  moveTask,
  TOGGLE,
  toTask,
} from "./baseline-sql.ts";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const TASKS = /^\/api\/([^/]+)\/tasks(?:\/([^/]+)\/(complete|move))?(?:\?.*)?$/;
// A list's page in manual order names the list; the rest of its query is the scenario's.
const LIST_ID = /[?&]listId=([^&]+)/;

function send(res: ServerResponse, status: number, data: unknown) {
  const body = JSON.stringify({ data, meta: { requestId: randomUUID() } });
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

async function readJson(
  req: IncomingMessage,
): Promise<{ title?: string; afterId?: string | null }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

const server = createServer(async (req, res) => {
  const match = TASKS.exec(req.url ?? "");
  const userId = match?.[1];
  if (!userId) return send(res, 404, null);
  try {
    if (req.method === "GET" && !match[2]) {
      const listId = LIST_ID.exec(req.url ?? "")?.[1];
      if (listId) return send(res, 200, await listPage(pool, userId, listId));
      const { rows } = await pool.query({ ...LIST, values: [userId] });
      return send(res, 200, rows.slice(0, 20).map(toTask));
    }
    if (req.method === "POST" && !match[2]) {
      const { title } = await readJson(req);
      return send(res, 201, toTask(await createTask(pool, userId, title ?? "untitled")));
    }
    if (req.method === "POST" && match[3] === "move") {
      const { afterId } = await readJson(req);
      return send(res, 200, await moveTask(pool, userId, match[2] as string, afterId ?? null));
    }
    if (req.method === "PATCH" && match[3] === "complete") {
      const { rows } = await pool.query({ ...TOGGLE, values: [match[2], userId] });
      return rows[0] ? send(res, 200, toTask(rows[0])) : send(res, 404, null);
    }
    send(res, 404, null);
  } catch (error) {
    send(res, error instanceof MoveRefused ? error.status : 500, null);
  }
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`Listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
