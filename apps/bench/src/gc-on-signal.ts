// Preloaded into the servers the live benchmark measures (never into the product): SIGUSR2 runs a
// full garbage collection, so memory per stream is read from a settled heap, not from wherever
// the collector happened to be (the server runs with --expose-gc for it). With
// BENCH_HEAP_SNAPSHOTS set to a folder, each collection is followed by a heap snapshot there.
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";

type Gc = (options?: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;
const collect = (globalThis as { gc?: Gc }).gc;
const folder = process.env.BENCH_HEAP_SNAPSHOTS;
let taken = 0;
process.on("SIGUSR2", () => {
  // What V8 does under memory pressure: every collectable object, and the young generation shrunk
  // back (it grows with a burst of allocation, such as a thousand streams opening at once).
  // (Node 20's V8 takes no flavor: there, two plain full collections.)
  collect?.();
  collect?.();
  collect?.({ type: "major", execution: "sync", flavor: "last-resort" });
  if (folder) writeHeapSnapshot(join(folder, `live-${++taken}.heapsnapshot`));
});
