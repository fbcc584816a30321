// Baseline B1: Express 5 + pg with named prepared statements + HS256 verification (jsonwebtoken,
// key made once, algorithm pinned, `sub` must be the path's user). Env: DATABASE_URL, PORT,
// BENCH_SECRET.
import { createSecretKey, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import express, { type Response } from "express";
import jwt from "jsonwebtoken";
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
const key = createSecretKey(Buffer.from(process.env.BENCH_SECRET ?? "", "utf8"));

const send = (res: Response, status: number, data: unknown) =>
  res.status(status).json({ data, meta: { requestId: randomUUID() } });

const app = express();
app.disable("x-powered-by");
app.use(express.json());
app.use("/api/:user_id/tasks", (req, res, next) => {
  try {
    const token = req.get("authorization")?.slice("Bearer ".length) ?? "";
    const payload = jwt.verify(token, key, { algorithms: ["HS256"] }) as { sub?: string };
    if (payload.sub !== req.params.user_id) return void send(res, 403, null);
    next();
  } catch {
    send(res, 401, null);
  }
});
app.get("/api/:user_id/tasks", async (req, res) => {
  // A list's page in manual order names the list; the rest of its query is the scenario's.
  if (typeof req.query.listId === "string") {
    return void send(res, 200, await listPage(pool, req.params.user_id, req.query.listId));
  }
  const { rows } = await pool.query({ ...LIST, values: [req.params.user_id] });
  send(res, 200, rows.slice(0, 20).map(toTask));
});
app.post("/api/:user_id/tasks", async (req, res) => {
  send(res, 201, toTask(await createTask(pool, req.params.user_id, req.body?.title)));
});
app.patch("/api/:user_id/tasks/:id/complete", async (req, res) => {
  const { rows } = await pool.query({ ...TOGGLE, values: [req.params.id, req.params.user_id] });
  if (rows[0]) send(res, 200, toTask(rows[0]));
  else send(res, 404, null);
});
app.post("/api/:user_id/tasks/:id/move", async (req, res) => {
  try {
    const afterId = req.body?.afterId ?? null;
    send(res, 200, await moveTask(pool, req.params.user_id, req.params.id, afterId));
  } catch (error) {
    if (!(error instanceof MoveRefused)) throw error;
    send(res, error.status, null);
  }
});

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`Listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
server.keepAliveTimeout = 65_000;
