import { defineConfig } from "vitest/config";

// Suites that open a database create and migrate one first: seconds, more on a busy machine (CI
// runs the packages' suites side by side), so hooks get the same minute as the other packages'.
export default defineConfig({ test: { hookTimeout: 60_000 } });
