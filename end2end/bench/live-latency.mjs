// Hub write → DOM change, in Chromium (issue 15's bar: p95 under 250 ms).
//
// Starts the real fleetdeck with the engine off (so nothing but this script writes the run), creates
// a ClusterStagedUpdateRun waiting at an approval (its status written through the status
// subresource, as the engine would), opens /runs/<name> in Debian's Chromium and waits until the
// page is hydrated and its live link is up. Then, ROUNDS times, it toggles the run's `spec.state`
// between Run and Stop with a JSON merge patch to the hub's Kubernetes API (what
// `kubectl patch --type merge` sends) and measures from just before the write to the first DOM
// mutation after which the page offers the matching action (Resume for a stopped run, Stop for a
// running one): a MutationObserver in the page takes Date.now() — the same machine clock as
// Node's Date.now() — when that becomes true.
//
//   FLEETDECK_BIN=/tmp/fleetdeck-bench node end2end/bench/live-latency.mjs
//
// Environment: FLEETDECK_BIN (default /tmp/fleetdeck-bench), FLEETDECK_SITE_ROOT (default
// target/site of this checkout), ROUNDS (40), CLUSTERS (3), STAGES (2), CHROMIUM_PATH
// (/usr/bin/chromium). Nothing is asserted: it prints p50/p95.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.FLEETDECK_BIN ?? "/tmp/fleetdeck-bench";
const siteRoot = process.env.FLEETDECK_SITE_ROOT ?? resolve(here, "..", "..", "target", "site");
const rounds = Number(process.env.ROUNDS ?? 40);
const clusters = Number(process.env.CLUSTERS ?? 3);
const stages = Number(process.env.STAGES ?? 2);
const RUN = `live-${clusters}`;
const GROUP = "/apis/placement.kubernetes-fleet.io/v1beta1";
const TIME = "2026-12-05T10:00:00Z";

// The same launch flags as playwright.config.ts.
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

async function waitFor(url, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/// The hub's address, CA and token from the kubeconfig fleetdeck wrote (its current context).
function hubFrom(kubeconfig) {
  const config = JSON.parse(
    execFileSync("kubectl", ["config", "view", "--raw", "--minify", "-o", "json", "--kubeconfig", kubeconfig], {
      encoding: "utf8",
    }),
  );
  const cluster = config.clusters[0].cluster;
  return {
    server: new URL(cluster.server),
    ca: Buffer.from(cluster["certificate-authority-data"], "base64"),
    token: config.users[0].user.token,
  };
}

function hubClient(hub) {
  const agent = new Agent({ keepAlive: true, ca: hub.ca });
  return (method, path, body, contentType = "application/json") =>
    new Promise((done, fail) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          agent,
          host: hub.server.hostname,
          port: hub.server.port,
          method,
          path,
          headers: {
            authorization: `Bearer ${hub.token}`,
            accept: "application/json",
            ...(data ? { "content-type": contentType, "content-length": Buffer.byteLength(data) } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode >= 300) fail(new Error(`${method} ${path}: HTTP ${res.statusCode} ${text}`));
            else done(JSON.parse(text));
          });
        },
      );
      req.on("error", fail);
      req.end(data);
    });
}

const cond = (type, status, reason, message) => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 1,
  lastTransitionTime: TIME,
});

/// A run waiting at the first stage's approval: that stage's clusters done, the rest pending
/// (the shape of server/benches/console.rs with `done` = 1).
function status() {
  const perStage = Math.ceil(clusters / stages);
  const stageName = (i) => `stage${i}`;
  return {
    policySnapshotIndexUsed: "0",
    policyObservedClusterCount: clusters,
    resourceSnapshotIndexUsed: "0",
    stagedUpdateStrategySnapshot: {
      stages: [...Array(stages).keys()].map((i) => ({
        name: stageName(i),
        labelSelector: { matchLabels: { stage: stageName(i) } },
        afterStageTasks: [{ type: "TimedWait", waitTime: "1m" }, { type: "Approval" }],
      })),
    },
    stagesStatus: [...Array(stages).keys()].map((i) => {
      const done = i === 0;
      const names = [];
      for (let c = i * perStage; c < Math.min((i + 1) * perStage, clusters); c++) names.push(`member-${String(c).padStart(5, "0")}`);
      return {
        stageName: stageName(i),
        clusters: names.map((clusterName) => ({
          clusterName,
          conditions: done
            ? [
                cond("Started", "True", "ClusterUpdatingStarted", "Cluster update started"),
                cond("Succeeded", "True", "ClusterUpdatingSucceeded", "Cluster update completed successfully"),
              ]
            : [],
        })),
        afterStageTaskStatus: [
          { type: "TimedWait", ...(done ? { conditions: [cond("WaitTimeElapsed", "True", "AfterStageTaskWaitTimeElapsed", "Wait time elapsed")] } : {}) },
          {
            type: "Approval",
            approvalRequestName: `${RUN}-after-${stageName(i)}`,
            ...(done ? { conditions: [cond("ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated", "ApprovalRequest object is created")] } : {}),
          },
        ],
        ...(done
          ? {
              startTime: TIME,
              conditions: [cond("Progressing", "False", "StageUpdatingWaiting", "All clusters in the stage are updated, waiting for after-stage tasks to complete")],
            }
          : {}),
      };
    }),
    conditions: [
      cond("Initialized", "True", "UpdateRunInitializedSuccessfully", "The UpdateRun initialized successfully"),
      cond("Progressing", "False", "UpdateRunWaiting", "The update run is waiting for after-stage tasks to complete"),
    ],
  };
}

/// Redeems the admin's one-time link as a person would; answers the session cookie's value.
async function signIn(base, dataDir) {
  const link = readFileSync(join(dataDir, "admin-signin-link"), "utf8").trim();
  const token = new URL(link).searchParams.get("token") ?? "";
  const password = "correct horse battery staple";
  const res = await fetch(`${base}/auth/setup`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base },
    body: new URLSearchParams({ token, password, confirm: password }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("fleetdeck_session="));
  if (res.status !== 303 || !cookie) throw new Error(`signing in failed: ${res.status} ${res.headers.get("location")}`);
  return cookie.split(";")[0].slice("fleetdeck_session=".length);
}

const nearestRank = (sorted, p) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];

async function main() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "fleetdeck-live-bench-"));
  const server = spawn(
    bin,
    ["serve", "--engine", "off", "--addr", `127.0.0.1:${port}`, "--hub-addr", "127.0.0.1:0", "--data-dir", dataDir, "--site-root", siteRoot, "--log", "warn"],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  const base = `http://127.0.0.1:${port}`;
  let browser;
  try {
    await waitFor(`${base}/healthz`, 60_000);
    const hub = hubClient(hubFrom(join(dataDir, "kubeconfig")));
    const runs = `${GROUP}/clusterstagedupdateruns`;
    await hub("POST", runs, {
      apiVersion: "placement.kubernetes-fleet.io/v1beta1",
      kind: "ClusterStagedUpdateRun",
      metadata: { name: RUN },
      spec: { placementName: "bench-placement", stagedRolloutStrategyName: "bench-strategy", state: "Run" },
    });
    await hub("PATCH", `${runs}/${RUN}/status`, { status: status() }, "application/merge-patch+json");

    browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: LAUNCH_ARGS });
    // The dashboard serves signed-in people only: the admin's one-time link (written on first
    // start) sets a password and starts the session the browser measures with.
    const context = await browser.newContext();
    await context.addCookies([{ name: "fleetdeck_session", value: await signIn(base, dataDir), url: base }]);
    const page = await context.newPage();
    await page.goto(`${base}/runs/${RUN}`);
    await page.locator('#live-status[data-status="live"]').waitFor();
    await page.locator('#run-actions [data-action="stop"]').waitFor();

    const latencies = [];
    const acks = [];
    let state = "Run";
    for (let i = 0; i < rounds; i++) {
      state = state === "Run" ? "Stop" : "Run";
      const expected = state === "Stop" ? "resume" : "stop";
      // Arm the observer: it resolves with the page's clock when the matching action appears.
      await page.evaluate((action) => {
        const selector = `#run-actions [data-action="${action}"]`;
        window.__seen = new Promise((done) => {
          const observer = new MutationObserver(() => {
            if (document.querySelector(selector)) {
              const at = Date.now();
              observer.disconnect();
              done(at);
            }
          });
          observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
        });
      }, expected);
      const before = Date.now();
      await hub("PATCH", `${runs}/${RUN}`, { spec: { state } }, "application/merge-patch+json");
      acks.push(Date.now() - before);
      const seen = await page.evaluate(() => window.__seen);
      latencies.push(seen - before);
      // Let the server's 50 ms coalescing window and the page settle before the next write.
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 200)));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const ackSorted = [...acks].sort((a, b) => a - b);
    console.log(`run ${RUN}: ${clusters} clusters in ${stages} stages; ${rounds} spec.state toggles (Run <-> Stop), engine off`);
    console.log(`hub write -> DOM shows the matching action: p50 ${nearestRank(sorted, 50)} ms, p95 ${nearestRank(sorted, 95)} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms`);
    console.log(`of which the hub's PATCH response: p50 ${nearestRank(ackSorted, 50)} ms, p95 ${nearestRank(ackSorted, 95)} ms`);
    console.log(`all (ms): ${latencies.join(" ")}`);
  } finally {
    if (browser) await browser.close();
    const stopped = new Promise((done) => server.once("exit", done));
    server.kill("SIGTERM");
    const timer = setTimeout(() => server.kill("SIGKILL"), 5_000);
    await stopped;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
