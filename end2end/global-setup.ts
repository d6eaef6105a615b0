import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ADMIN_STATE, setPassword, writeState } from "./tests/support/signin";

// Starts the real `fleetdeck` binary (FLEETDECK_BIN, built by the test command) on a free port and
// hands its address to the tests through BASE_URL. BASE_URL given from outside skips this.
export default async function globalSetup() {
  if (process.env.BASE_URL) {
    await waitFor(`${process.env.BASE_URL}/healthz`, 60_000);
    return;
  }
  const bin = process.env.FLEETDECK_BIN;
  if (!bin) throw new Error("set FLEETDECK_BIN to the fleetdeck binary, or BASE_URL to a running fleetdeck");
  const siteRoot = process.env.FLEETDECK_SITE_ROOT ?? resolve(__dirname, "..", "target", "site");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "fleetdeck-e2e-"));
  const server = spawn(
    bin,
    ["serve", "--addr", `127.0.0.1:${port}`, "--hub-addr", "127.0.0.1:0", "--kubelet-delay", "0s", "--stuck-threshold", "10s", "--data-dir", dataDir, "--site-root", siteRoot, "--log", "info,tower_http=warn"],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const exited = new Promise<never>((_, reject) =>
    server.once("exit", (code) => reject(new Error(`fleetdeck exited early with code ${code}`))),
  );
  process.env.BASE_URL = `http://127.0.0.1:${port}`;
  // Tests reach the hub with kubectl through the kubeconfig fleetdeck writes here.
  process.env.FLEETDECK_KUBECONFIG = join(dataDir, "kubeconfig");
  await Promise.race([waitFor(`${process.env.BASE_URL}/healthz`, 60_000), exited]);
  // Every test starts signed in as the admin: the one-time link fleetdeck wrote on its first
  // start sets the admin's password, as a person would; `fleetdeck user add` finds the data here.
  process.env.FLEETDECK_DATA_DIR = dataDir;
  const link = readFileSync(join(dataDir, "admin-signin-link"), "utf8").trim();
  writeState(ADMIN_STATE, await setPassword(link));

  return async () => {
    server.removeAllListeners("exit");
    const stopped = new Promise((done) => server.once("exit", done));
    server.kill("SIGTERM");
    // A graceful shutdown must not hang on open event streams: give it a few seconds, then insist.
    const timer = setTimeout(() => server.kill("SIGKILL"), 5_000);
    await stopped;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  };
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

async function waitFor(url: string, ms: number) {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fleetdeck at ${url} did not come up: ${last}`);
}
