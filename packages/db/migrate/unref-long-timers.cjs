// Preloaded into the migration CLI: its WebAssembly schema engine leaves a 60 s timer behind that
// would keep the process alive after the work is done. Long timers must not hold the process open.
const originalSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = function setTimeout(callback, ms, ...args) {
  const timer = originalSetTimeout(callback, ms, ...args);
  if (typeof ms === "number" && ms >= 10_000 && typeof timer?.unref === "function") timer.unref();
  return timer;
};
