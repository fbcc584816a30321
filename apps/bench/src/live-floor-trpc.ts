// The floor under the live benchmark's tRPC streams (`live.ts --floor --surface trpc`): a bare tRPC
// v11 subscription over SSE on Express 5 (the same adapter and ping settings as the product, no
// middleware, no auth, no database), holding every stream open without yielding. What an open
// tRPC stream costs before any of ours; the same /metrics line for its heap.
import { initTRPC } from "@trpc/server";
import { createExpressMiddleware } from "@trpc/server/adapters/express";
import express from "express";

const HEARTBEAT_MS = 15_000;
const t = initTRPC.create({
  sse: {
    ping: { enabled: true, intervalMs: HEARTBEAT_MS },
    client: { reconnectAfterInactivityMs: 2 * HEARTBEAT_MS + 5_000 },
  },
});

const router = t.router({
  task: t.router({
    onChange: t.procedure.subscription(async function* ({ signal }) {
      // Open until the client goes; nothing to send.
      await new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve()));
      yield* [];
    }),
  }),
});

const app = express();
app.get("/metrics", (_req, res) => {
  res.end(`nodejs_heap_size_used_bytes ${process.memoryUsage().heapUsed}\n`);
});
app.use("/trpc", createExpressMiddleware({ router }));
app.post("/api/:user/tasks", (_req, res) => {
  res.status(201).json({});
});
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`Listening on http://127.0.0.1:${port}\n`);
});
server.keepAliveTimeout = 65_000;
