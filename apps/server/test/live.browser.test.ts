// The README's browser live client, run as written in headless Chromium (Debian's package): the
// page's own EventSource with a stream ticket per connection. Its tokens live 3 s, so the stream
// ends (token_expired) and the snippet must reopen with a new ticket from its cursor, losing
// nothing and repeating nothing, even when a ticket request is refused on the way. Skipped without Chromium, unless REQUIRE_BROWSER_TESTS is set.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { signHs256Token } from "@todo/api/auth";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { rest, startServer, TEST_SECRET, type TestServer } from "./harness.ts";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(executablePath);
if (!available && process.env.REQUIRE_BROWSER_TESTS) {
  throw new Error(`REQUIRE_BROWSER_TESTS is set but there is no browser at ${executablePath}`);
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** The README's browser snippet (the js block of the Live updates section). */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, "../../../README.md"), "utf8");
  const after = readme.indexOf("Or with the browser's own EventSource");
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(after));
  if (after < 0 || !match?.[1]) throw new Error("README: no browser snippet");
  return match[1];
}

it.runIf(available)(
  "the README's EventSource snippet follows a user's changes across token expiry",
  async () => {
    const userId = `user_${crypto.randomUUID()}`;
    const token = (seconds: number) =>
      signHs256Token({ secret: TEST_SECRET, userId, expiresInSeconds: seconds });
    const browser = await chromium.launch({
      executablePath,
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      // The snippet runs as a page script would; the API's own CSP (no inline scripts) is not the point.
      const page = await browser.newPage({ bypassCSP: true });
      // A page of the API's own origin (no CORS needed), with what the snippet expects around it.
      await page.goto(`${server.baseUrl}/health/live`);
      // The second token is refused (the ticket request answers 401): the snippet must try again.
      let tokens = 0;
      await page.exposeFunction("getToken", () => (++tokens === 2 ? "not-a-token" : token(3)));
      await page.evaluate(
        ([api, id]) => {
          const w = globalThis as unknown as Record<string, unknown>;
          w.API = api;
          w.userId = id;
          w.seen = [];
          w.apply = (change: { task: { title: string } }) =>
            (w.seen as string[]).push(change.task.title);
        },
        [server.baseUrl, userId],
      );
      await page.addScriptTag({ content: await readmeSnippet() });
      const seen = () => page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen);
      const started = () => page.evaluate("typeof cursor === 'string'");
      for (let i = 0; i < 100 && !(await started()); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await started()).toBe(true);

      const create = (title: string) =>
        rest(server, "POST", `/api/${userId}/tasks`, {
          auth: `Bearer ${token(60)}`,
          body: { title },
        });
      expect((await create("first")).status).toBe(201);
      // Past the first token's expiry: the stream ends and the snippet opens another.
      await new Promise((r) => setTimeout(r, 4_500));
      expect((await create("second")).status).toBe(201);
      for (let i = 0; i < 100 && (await seen()).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(await seen()).toEqual(["first", "second"]);
      expect(tokens).toBeGreaterThanOrEqual(3);
    } finally {
      await browser.close();
    }
  },
);
