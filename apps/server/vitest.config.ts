import { defineConfig } from "vitest/config";

// The core end-to-end suites also run against the embedded database (PGlite), the default a
// newcomer meets, so it is held to what PostgreSQL answers.
const CORE_SUITES = [
  "test/rest.test.ts",
  "test/trpc.test.ts",
  "test/client.test.ts",
  "test/security.test.ts",
  "test/isolation.property.test.ts",
  "test/concurrency.test.ts",
  "test/sync.test.ts",
  "test/live.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "postgres", globalSetup: ["./test/global-setup.ts"] },
      },
      {
        extends: true,
        test: {
          name: "embedded",
          include: CORE_SUITES,
          globalSetup: ["./test/global-setup-embedded.ts"],
        },
      },
    ],
  },
});
