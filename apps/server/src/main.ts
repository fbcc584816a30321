// The entry point: one server process, or with WEB_CONCURRENCY above 1 a primary that runs that
// many (node:cluster: they share the port) and keeps them running (cluster.ts).
import cluster from "node:cluster";
import { EnvError, loadEnv } from "./env.ts";

let processes = 1;
try {
  processes = loadEnv().WEB_CONCURRENCY;
} catch (error) {
  // serve.ts reports a bad configuration and exits.
  if (!(error instanceof EnvError)) throw error;
}
if (cluster.isPrimary && processes > 1) await import("./cluster.ts");
else await import("./serve.ts");
