// The floor under the live benchmark's memory per stream: a bare node:http server that holds every
// request open as an event stream (headers, a retry hint, nothing else), with the same /metrics
// line for its heap, so `live.ts --floor` measures what an open stream costs before any of ours.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  if (req.url === "/metrics") {
    res.end(`nodejs_heap_size_used_bytes ${process.memoryUsage().heapUsed}\n`);
    return;
  }
  if (req.method === "POST") {
    req.resume();
    req.on("end", () => res.writeHead(201).end("{}"));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.write("retry: 2000\n\n");
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`Listening on http://127.0.0.1:${port}\n`);
});
