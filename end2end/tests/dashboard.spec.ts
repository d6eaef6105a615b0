import { test, expect, type Page } from "@playwright/test";
import { ADMIN_STATE } from "./support/signin";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

// global-setup.ts starts fleetdeck on a free port and publishes its address before tests load.
test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

const NAV = ["Overview", "Fleet", "Runs", "Upgrades", "Approvals", "Placements", "Strategies"];

/** Fails the test on any uncaught error in the page (a broken hydration shows up here). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}

async function hydrated(page: Page) {
  // The theme toggle's label is only known in the browser: it changes when hydration ran.
  await expect(page.locator("#theme-toggle")).toHaveText(/Dark mode|Light mode/);
}

test("pages are rendered on the server and readable without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE });
  const page = await context.newPage();
  const res = await page.goto("/");
  expect(res?.status()).toBe(200);
  await expect(page).toHaveTitle("Overview · fleetdeck");
  for (const label of NAV) {
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label })).toBeVisible();
  }
  await expect(page.locator('#server-info [data-field="version"]')).toHaveText(/^\d+\.\d+\.\d+$/);
  await expect(page.locator('#server-info [data-field="mode"]')).toHaveText("embedded");
  await expect(page.locator("#activity")).toContainText(/fleetdeck \S+ started/);
  // Without JavaScript nothing hydrates: the toggle keeps its server-rendered label.
  await expect(page.locator("#theme-toggle")).toHaveText("Theme");

  await page.getByRole("link", { name: "Runs" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Runs");
  await expect(page).toHaveTitle("Runs · fleetdeck");
  await context.close();
});

test("a note posts through a plain form without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE });
  const page = await context.newPage();
  await page.goto("/");
  const note = `no-js note ${Date.now()}`;
  await page.locator("#note-text").fill(note);
  await page.locator("#note-post").click();
  // The server function answers the form post with a redirect back to the page, which now lists it.
  await expect(page).toHaveURL(/\/\??$/);
  await expect(page.locator("#activity")).toContainText(note);
  await context.close();
});

test("unknown pages answer 404 with the app's page", async ({ page }) => {
  const res = await page.goto("/no-such-page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
});

test("the page hydrates: the theme toggle works and is remembered", async ({ page }) => {
  const errors = watchErrors(page);
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await hydrated(page);
  const html = page.locator("html");
  await expect(html).not.toHaveClass(/\bdark\b/);
  await expect(page.locator("#theme-toggle")).toHaveText("Dark mode");
  await page.screenshot({ path: join(ARTIFACTS, "overview-light.png"), fullPage: true });

  await page.locator("#theme-toggle").click();
  await expect(html).toHaveClass(/\bdark\b/);
  await expect(page.locator("#theme-toggle")).toHaveText("Light mode");
  const bg = await page.locator("body").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).not.toBe("rgb(248, 250, 252)"); // slate-50, the light background: Tailwind's dark: applied

  await page.reload();
  await expect(html).toHaveClass(/\bdark\b/);
  await hydrated(page);
  await page.screenshot({ path: join(ARTIFACTS, "overview-dark.png"), fullPage: true });
  // Client-side navigation keeps the page (and its live link) alive.
  await page.getByRole("link", { name: "Approvals" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Approvals");
  await expect(page.getByRole("link", { name: "Approvals" })).toHaveAttribute("aria-current", "page");
  await page.locator("#theme-toggle").click();
  expect(errors).toEqual([]);
});

test("a server function answers from the browser, and rejects bad input with a clear message", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/");
  await hydrated(page);
  const note = `hydrated note ${Date.now()}`;
  await page.locator("#note-text").fill(note);
  await page.locator("#note-post").click();
  await expect(page.locator("#note-result")).toHaveText(/^Posted as #\d+$/);
  await expect(page).toHaveURL(/\/$/);

  await page.locator("#note-text").fill("   ");
  await page.locator("#note-post").click();
  await expect(page.locator("#note-result")).toContainText("a note cannot be empty");
  // The rejection is a 422 answer, which the browser logs; nothing else may have gone wrong.
  expect(errors.filter((e) => !e.includes("status of 422"))).toEqual([]);
});

test("a note posted in one tab appears live in another, without a reload", async ({ browser }) => {
  const context = await browser.newContext({ storageState: ADMIN_STATE });
  const watcher = await context.newPage();
  const errors = watchErrors(watcher);
  await watcher.goto("/");
  await hydrated(watcher);
  await expect(watcher.locator("#live-status")).toHaveAttribute("data-status", "live");
  // A marker on the window survives only if the page is never reloaded.
  await watcher.evaluate(() => ((window as any).__notReloaded = true));

  const poster = await context.newPage();
  await poster.goto("/");
  await hydrated(poster);
  const note = `live note ${Date.now()}`;
  await poster.locator("#note-text").fill(note);
  await poster.locator("#note-post").click();
  await expect(poster.locator("#note-result")).toHaveText(/^Posted as #\d+$/);

  await expect(watcher.locator("#activity li").first()).toContainText(note);
  expect(await watcher.evaluate(() => (window as any).__notReloaded)).toBe(true);
  await watcher.screenshot({ path: join(ARTIFACTS, "overview-live.png"), fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});
