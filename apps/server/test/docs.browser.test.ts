// The docs page as a person sees it: headless Chromium (Debian's package) opens /docs, finds the
// task routes and saves a screenshot. Runs wherever Chromium is installed; CI installs it and
// sets REQUIRE_BROWSER_TESTS=1, under which a missing browser is a failure, not a skip.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer, type TestServer } from "./harness.ts";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const available = existsSync(executablePath);
if (!available && process.env.REQUIRE_BROWSER_TESTS) {
  throw new Error(`REQUIRE_BROWSER_TESTS is set but there is no browser at ${executablePath}`);
}
export const SCREENSHOT = join(import.meta.dirname, "artifacts/docs.png");

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

it.runIf(available)("opens /docs in Chromium and shows the task routes", async () => {
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const failed: string[] = [];
    page.on("requestfailed", (request) => failed.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") failed.push(message.text());
    });
    await page.goto(`${server.baseUrl}/docs/`);
    await page.waitForSelector(".opblock", { timeout: 20_000 });
    const paths = await page.locator(".opblock-summary-path").allInnerTexts();
    expect(paths.map((p) => p.replace(/\u200b/g, "").trim())).toEqual(
      expect.arrayContaining([
        "/api/{user_id}/tasks",
        "/api/{user_id}/tasks/stats",
        "/api/{user_id}/tasks/{id}",
        "/api/{user_id}/tasks/{id}/complete",
        "/api/{user_id}/tasks/{id}/move",
        "/api/{user_id}/lists",
        "/api/{user_id}/lists/{listId}",
        "/api/{user_id}/labels",
      ]),
    );
    expect(await page.locator(".opblock").count()).toBe(20);
    expect(failed).toEqual([]);
    mkdirSync(join(import.meta.dirname, "artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(existsSync(SCREENSHOT)).toBe(true);
  } finally {
    await browser.close();
  }
});
