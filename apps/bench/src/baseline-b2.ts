// Baseline B2: a bare tRPC v11 router on Express 5 (tRPC's own Express adapter), with B1's SQL
// (pg, named prepared statements) and B1's token check (HS256 with jsonwebtoken, key made once,
// algorithm pinned): what tRPC itself can do, so the product's tRPC surface is judged against it.
// Procedures: task.list (query), task.create, task.toggle, task.move (mutations), the product's
// names and inputs. Env: DATABASE_URL, PORT, BENCH_SECRET.
import { createSecretKey } from "node:crypto";
import type { AddressInfo } from "node:net";
import { initTRPC, TRPCError } from "@trpc/server";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import express from "express";
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

const t = initTRPC.context<{ authorization: string | undefined }>().create();
const authed = t.procedure.use(({ ctx, next }) => {
  try {
    const token = ctx.authorization?.slice("Bearer ".length) ?? "";
    const payload = jwt.verify(token, key, { algorithms: ["HS256"] }) as { sub?: string };
    if (typeof payload.sub !== "string") throw new Error("no subject");
    return next({ ctx: { userId: payload.sub } });
  } catch {
    throw new TRPCError({ code: "UNAUTHORIZED" });
  }
});

// Inputs checked by hand, as cheaply as a bare service would.
const object = (input: unknown) =>
  typeof input === "object" && input !== null ? (input as Record<string, unknown>) : {};

const router = t.router({
  task: t.router({
    list: authed
      // A list's page in manual order names the list; the rest of its input is the scenario's.
      .input((input) => {
        const { listId } = object(input);
        return { listId: typeof listId === "string" ? listId : undefined };
      })
      .query(async ({ ctx, input }) => {
        if (input.listId) return listPage(pool, ctx.userId, input.listId);
        const { rows } = await pool.query({ ...LIST, values: [ctx.userId] });
        return rows.slice(0, 20).map(toTask);
      }),
    create: authed
      .input((input) => ({ title: String(object(input).title ?? "") }))
      .mutation(async ({ ctx, input }) => {
        return toTask(await createTask(pool, ctx.userId, input.title));
      }),
    toggle: authed
      .input((input) => ({ id: String(object(input).id ?? "") }))
      .mutation(async ({ ctx, input }) => {
        const { rows } = await pool.query({ ...TOGGLE, values: [input.id, ctx.userId] });
        if (!rows[0]) throw new TRPCError({ code: "NOT_FOUND" });
        return toTask(rows[0]);
      }),
    move: authed
      .input((input) => {
        const { id, afterId } = object(input);
        return { id: String(id ?? ""), afterId: typeof afterId === "string" ? afterId : null };
      })
      .mutation(async ({ ctx, input }) => {
        try {
          return await moveTask(pool, ctx.userId, input.id, input.afterId);
        } catch (error) {
          if (!(error instanceof MoveRefused)) throw error;
          throw new TRPCError({ code: error.status === 404 ? "NOT_FOUND" : "CONFLICT" });
        }
      }),
  }),
});

const app = express();
app.disable("x-powered-by");
app.use(
  "/trpc",
  createExpressMiddleware({
    router,
    createContext: ({ req }) => ({ authorization: req.headers.authorization }),
  }),
);

const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`Listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
server.keepAliveTimeout = 65_000;
