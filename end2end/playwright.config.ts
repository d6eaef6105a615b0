import { defineConfig } from "@playwright/test";
import { ADMIN_STATE } from "./tests/support/signin";

// The server is started by global-setup.ts (a fresh fleetdeck on a free port with its own data
// directory), so the tests never touch a fleetdeck the developer has running.
export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  globalSetup: "./global-setup.ts",
  use: {
    browserName: "chromium",
    // Signed in as the admin (global-setup.ts); signin.spec.ts makes its own people.
    storageState: ADMIN_STATE,
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium tries to reach Google at every start,
      // which this network refuses.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
