import { test, expect, Page } from "@playwright/test";
import { ADMIN_STATE } from "./support/signin";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The run console against the real binary: every step is observed in the DOM of one page that
// never reloads (a marker set on `window` at the start must survive to the end).

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

/// kubectl against the fleetdeck under test; `quiet` keeps a failing call's stderr out of the log.
function kubectl(args: string[], input?: string, quiet = false): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  const stdio: ("pipe" | "ignore")[] = ["pipe", "pipe", quiet ? "ignore" : "pipe"];
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input, stdio });
}

async function markNoReload(page: Page) {
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));
}

async function notReloaded(page: Page) {
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
}

/// Seed 002's cluster-scoped objects, with a short wait so the test does not sit for a minute.
function applySeed002(prefix: string, state: "Initialize" | "Run" | null) {
  kubectl(["create", "namespace", `${prefix}-ns`]);
  kubectl(["create", "configmap", `${prefix}-cm`, "--from-literal=data=test", "-n", `${prefix}-ns`]);
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: ${prefix}-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: ${prefix}-ns, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: ${prefix}-strategy}
spec:
  stages:
    - name: staging
      labelSelector: {matchLabels: {environment: staging}}
      afterStageTasks: [{type: TimedWait, waitTime: 2s}]
    - name: canary
      labelSelector: {matchLabels: {environment: canary}}
      sortingLabelKey: order
      beforeStageTasks: [{type: Approval}]
      afterStageTasks: [{type: Approval}]
`,
  );
  // The run is created once the placement has scheduled its clusters (spec quirk: earlier fails).
  for (let i = 0; i < 100; i++) {
    const scheduled = kubectl(["get", "clusterschedulingpolicysnapshots", "-l", `kubernetes-fleet.io/parent-CRP=${prefix}-placement`, "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]);
    if (scheduled.includes("True")) break;
    execFileSync("sleep", ["0.1"]);
  }
  if (state === null) return;
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: ${prefix}-run}
spec: {placementName: ${prefix}-placement, stagedRolloutStrategyName: ${prefix}-strategy, state: ${state}}
`,
  );
}

test("seed 002 driven from the browser: create in Initialize, review the plan, start, approve from the inbox and from the run page", async ({ page }) => {
  applySeed002("console", null);
  await page.goto("/runs");
  await markNoReload(page);

  // Create the run from the browser; the hub checks it first (dry run), and a bad name is
  // answered with the hub's own message.
  await page.locator("#new-run-link").click();
  // The release build fetches the form's code on the way: the runs list (whose filter is also
  // labelled "Placement") stays until it has come.
  await expect(page).toHaveURL(/\/runs\/new$/);
  await page.locator("select#run-placement").waitFor();
  await page.getByLabel("Placement").selectOption("console-placement");
  await page.getByLabel("Strategy").selectOption("console-strategy");
  await page.getByLabel("Run name").fill("Console_Run");
  await page.locator("#check-run").click();
  await expect(page.locator("#check-result [role=alert]")).toContainText("Console_Run");
  await page.getByLabel("Run name").fill("console-run");
  await page.locator("#check-run").click();
  await expect(page.locator("#check-result [role=status]")).toContainText("The hub accepts this run");
  expect(kubectl(["get", "csur", "-o", "name"])).not.toContain("console-run");
  await page.screenshot({ path: join(ARTIFACTS, "run-new.png"), fullPage: true });
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(/\/runs\/console-run$/);

  // The plan is computed: stages in order, members in the strategy's order, nothing moved yet.
  const pill = page.locator("#run-pill");
  await expect(pill).toHaveAttribute("data-pill", "Initialized");
  await expect(page.locator("#timeline > li.stage")).toHaveCount(3); // staging, canary, deletion
  await expect(page.locator('li.stage[data-stage="canary"] li.chip')).toHaveText([/member3/, /member1/]);
  await expect(page.locator("#run-now")).toContainText("start the run");
  await page.screenshot({ path: join(ARTIFACTS, "run-initialized.png"), fullPage: true });

  // The Overview, open in another tab, will carry the run's Events as they happen.
  const overview = await page.context().newPage();
  await overview.goto("/");
  await markNoReload(overview);

  // Start, behind a confirmation that says what will happen.
  await page.locator('details[data-action="start"] > summary').click();
  await expect(page.locator('details[data-action="start"]')).toContainText("clusters begin to update");
  await page.getByRole("button", { name: "Start the run" }).click();
  await expect(page.locator('li.stage[data-stage="staging"]')).toHaveAttribute("data-state", "succeeded");
  const before = page.locator('li.stage[data-stage="canary"] [data-gate="approval"][data-request="console-run-before-canary"]');
  await expect(before).toHaveAttribute("data-state", "waiting");
  await expect(pill).toHaveAttribute("data-pill", "Waiting");
  await expect(page.locator("#run-now")).toContainText("approval of console-run-before-canary");
  await notReloaded(page);

  // Approve before-canary from the inbox (another tab), with a comment.
  const inbox = await page.context().newPage();
  await inbox.goto("/approvals");
  await markNoReload(inbox);
  const request = inbox.locator('li.approval[data-request="console-run-before-canary"]');
  await expect(request).toHaveAttribute("data-state", "pending");
  await inbox.screenshot({ path: join(ARTIFACTS, "approvals.png"), fullPage: true });
  await request.locator("details.approve > summary").click();
  await request.getByLabel("Comment (optional)").fill("staging looks good");
  await request.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(request).toHaveAttribute("data-state", "accepted");
  await expect(request.locator(".approved-by")).toHaveText("Approved by admin: staging looks good");
  await notReloaded(inbox);

  // The run page followed: canary updated, the after-canary gate waits; approve it here.
  await expect(before).toHaveAttribute("data-state", "accepted");
  const after = page.locator('[data-gate="approval"][data-request="console-run-after-canary"]');
  await expect(after).toHaveAttribute("data-state", "waiting");
  await expect(page.locator('li.stage[data-stage="canary"] li.chip[data-state="succeeded"]')).toHaveCount(2);
  await page.screenshot({ path: join(ARTIFACTS, "run-waiting.png"), fullPage: true });
  await after.locator("details.approve > summary").click();
  await after.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(pill).toHaveAttribute("data-pill", "Succeeded");
  await expect(page.locator("#run-now")).toContainText("every stage completed");

  // The approver is named on the request and in the run's history.
  await expect(page.locator('#history .history-line[data-reason="Approved"][data-by="admin"]')).toHaveCount(2);
  await expect(page.locator('#history .history-line[data-reason="StartRequested"]')).toContainText("admin started the run");
  const approvedBy = kubectl(["get", "clusterapprovalrequest", "console-run-after-canary", "-o", "jsonpath={.status.conditions[?(@.type==\"Approved\")].message}"]);
  expect(approvedBy).toBe("Approved by admin");
  await notReloaded(page);
  await page.screenshot({ path: join(ARTIFACTS, "run-succeeded.png"), fullPage: true });

  // The Overview's feed followed: the engine's transitions and the approvers, each linking to the run.
  const feed = overview.locator("#activity");
  await expect(feed.locator('li[data-source="admin"] a[href="/runs/console-run"]').filter({ hasText: "console-run: Approved" })).toHaveCount(2);
  await expect(feed.locator('li[data-source="fleetdeck-engine"] a[href="/runs/console-run"]').filter({ hasText: /console-run: \w+/ }).first()).toBeVisible();
  await notReloaded(overview);

  for (const member of ["member1", "member2", "member3"]) {
    expect(kubectl(["--context", member, "get", "configmap", "console-cm", "-n", "console-ns", "-o", "jsonpath={.data.data}"])).toBe("test");
  }
});

test("a stale page's approval is refused with a message", async ({ page, context }) => {
  applySeed002("stale", "Run");
  // This tab never hears from the server again, like a laptop that slept on the inbox.
  const stale = await context.newPage();
  await stale.goto("/approvals");
  const request = stale.locator('li.approval[data-request="stale-run-before-canary"]');
  await expect(request).toHaveAttribute("data-state", "pending");
  await stale.route("**/api/events", (route) => route.abort());
  await stale.route("**/api/approvals/list", (route) => route.abort());

  // Someone else approves with kubectl, as in the seed.
  const generation = kubectl(["get", "clusterapprovalrequest", "stale-run-before-canary", "-o", "jsonpath={.metadata.generation}"]);
  kubectl(["patch", "clusterapprovalrequest", "stale-run-before-canary", "--subresource=status", "--type=merge", "-p",
    JSON.stringify({ status: { conditions: [{ type: "Approved", status: "True", reason: "approved", message: "approved with kubectl", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"), observedGeneration: Number(generation) }] } })]);

  await request.locator("details.approve > summary").click();
  await request.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(request.getByRole("alert")).toContainText("already approved");
});

const GATE = "fleetdeck.dev/test-release";

/// Opens the readiness gate of `web`'s pods on `member` (as a load balancer controller would),
/// until its Deployment reports them available: until then the member stays "updating".
function release(member: string, namespace: string) {
  for (let i = 0; i < 100; i++) {
    const available = kubectl(["--context", member, "get", "deployment", "web", "-n", namespace, "-o", "jsonpath={.status.availableReplicas}"], undefined, true);
    if (available.trim() === "1") return;
    const pods = kubectl(["--context", member, "get", "pods", "-n", namespace, "-l", "app=web", "-o", "name"], undefined, true).split("\n").filter((p) => p);
    for (const pod of pods) {
      kubectl(["--context", member, "patch", pod, "-n", namespace, "--subresource=status", "--type=strategic", "-p",
        JSON.stringify({ status: { conditions: [{ type: GATE, status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") }] } })], undefined, true);
    }
    execFileSync("sleep", ["0.2"]);
  }
  throw new Error(`${member}'s web never became available`);
}

test("Stop while a cluster updates: Stopping, then Stopped once it finishes; Resume runs to Succeeded", async ({ page }) => {
  kubectl(["create", "namespace", "stop-ns"]);
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: stop-ns}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      readinessGates: [{conditionType: ${GATE}}]
      containers: [{name: web, image: "nginx:1.27"}]
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: stop-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: stop-ns, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: stop-strategy}
spec:
  stages:
    - {name: staging, labelSelector: {matchLabels: {environment: staging}}}
    - {name: canary, labelSelector: {matchLabels: {environment: canary}}, sortingLabelKey: order}
`,
  );
  for (let i = 0; i < 100; i++) {
    const scheduled = kubectl(["get", "clusterschedulingpolicysnapshots", "-l", "kubernetes-fleet.io/parent-CRP=stop-placement", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]);
    if (scheduled.includes("True")) break;
    execFileSync("sleep", ["0.1"]);
  }
  kubectl(["apply", "-f", "-"], `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: stop-run}
spec: {placementName: stop-placement, stagedRolloutStrategyName: stop-strategy, state: Run}
`);
  await page.goto("/runs/stop-run");
  await markNoReload(page);
  const pill = page.locator("#run-pill");
  const member2 = page.locator('li.chip[data-cluster="member2"]');
  await expect(member2).toHaveAttribute("data-state", "updating");

  await page.locator('details[data-action="stop"] > summary').click();
  await expect(page.locator('details[data-action="stop"]')).toContainText("Clusters that are updating now finish");
  await page.getByRole("button", { name: "Stop the run" }).click();
  // member2 is still updating, so the run is Stopping, not yet Stopped.
  await expect(page.locator("#run-now")).toContainText("Stopping");
  await expect(member2).toHaveAttribute("data-state", "updating");
  await page.screenshot({ path: join(ARTIFACTS, "run-stopping.png"), fullPage: true });

  release("member2", "stop-ns");
  await expect(pill).toHaveAttribute("data-pill", "Stopped");
  await expect(member2).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('li.chip[data-cluster="member3"]')).toHaveAttribute("data-state", "pending");
  await expect(page.locator("#run-now")).toContainText("Stopped");

  await page.locator('details[data-action="resume"] > summary').click();
  await page.getByRole("button", { name: "Resume the run" }).click();
  await expect(page.locator('li.chip[data-cluster="member3"]')).toHaveAttribute("data-state", "updating");
  release("member3", "stop-ns");
  release("member1", "stop-ns");
  await expect(pill).toHaveAttribute("data-pill", "Succeeded");
  await expect(page.locator('#history .history-line[data-reason="StopRequested"]')).toContainText("admin stopped the run");
  await expect(page.locator('#history .history-line[data-reason="ResumeRequested"]')).toHaveCount(1);
  await notReloaded(page);
});

test("a run stuck on nginx:INVALID explains which member's workload fails and what to do", async ({ page }) => {
  test.setTimeout(90_000); // the stuck threshold (10 s here) must pass first
  kubectl(["create", "namespace", "stuck-ns"]);
  kubectl(["create", "deployment", "nginx", "--image=nginx:INVALID", "-n", "stuck-ns"]);
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: stuck-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: stuck-ns, version: v1}]
  policy: {placementType: PickFixed, clusterNames: [member2]}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: stuck-strategy}
spec:
  stages:
    - name: staging
      labelSelector: {matchLabels: {environment: staging}}
`,
  );
  for (let i = 0; i < 100; i++) {
    const scheduled = kubectl(["get", "clusterschedulingpolicysnapshots", "-l", "kubernetes-fleet.io/parent-CRP=stuck-placement", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]);
    if (scheduled.includes("True")) break;
    execFileSync("sleep", ["0.1"]);
  }
  await page.goto("/runs");
  await markNoReload(page);
  kubectl(["apply", "-f", "-"], `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: stuck-run}
spec: {placementName: stuck-placement, stagedRolloutStrategyName: stuck-strategy, state: Run}
`);
  await page.locator('#runs tr.run[data-run="stuck-run"] a').click();
  await expect(page.locator("#run-pill")).toHaveAttribute("data-pill", "Stuck", { timeout: 40_000 });
  await expect(page.locator('li.chip[data-cluster="member2"]')).toHaveAttribute("data-state", "stuck");
  const problems = page.locator("#problems");
  await expect(problems).toContainText("Stuck: member2 not available in stage staging");
  await expect(problems).toContainText("member2's Deployment stuck-ns/nginx cannot pull image nginx:INVALID (InvalidImageName)");
  await expect(problems).toContainText("kubectl --context member2 get pods -A");
  await notReloaded(page);
  await page.screenshot({ path: join(ARTIFACTS, "run-stuck.png"), fullPage: true });
});

test("without JavaScript the run page shows the timeline and conditions, and Stop still works as a plain form", async ({ browser }) => {
  applySeed002("nojs", "Run");
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE, baseURL: process.env.BASE_URL });
  const page = await context.newPage();
  // Reload until the engine has reached the approval gate (no live updates without JavaScript).
  for (let i = 0; i < 50; i++) {
    await page.goto("/runs/nojs-run");
    // The engine creates the gate's request before it writes the run's status: wait for both.
    const gate = page.locator('[data-gate="approval"][data-request="nojs-run-before-canary"]');
    const staging = page.locator('li.stage[data-stage="staging"]');
    const gateState = await gate.getAttribute("data-state", { timeout: 500 }).catch(() => null);
    const stagingState = await staging.getAttribute("data-state", { timeout: 500 }).catch(() => null);
    if (gateState === "waiting" && stagingState === "succeeded") break;
    await page.waitForTimeout(200);
  }
  await expect(page.locator("#run-pill")).toHaveAttribute("data-pill", "Waiting");
  await expect(page.locator('li.stage[data-stage="staging"]')).toHaveAttribute("data-state", "succeeded");
  await expect(page.locator('[data-gate="approval"][data-request="nojs-run-before-canary"]')).toHaveAttribute("data-state", "waiting");
  await expect(page.locator('#conditions .condition[data-type="Initialized"]')).toHaveAttribute("data-status", "True");
  await page.screenshot({ path: join(ARTIFACTS, "run-no-js.png"), fullPage: true });
  // The new-run form's suggested name is in the server's HTML too, so the plain form posts one.
  const form = await context.newPage();
  await form.goto("/runs/new");
  await expect(form.locator("#run-name")).not.toHaveValue("");
  await form.close();

  await page.locator('details[data-action="stop"] > summary').click();
  await page.getByRole("button", { name: "Stop the run" }).click();
  // The server function answers a plain form with a redirect back to the run page.
  await expect(page.locator('[data-field="state"]')).toHaveText("Stop");
  await expect(page).toHaveURL(/\/runs\/nojs-run\??$/);
  expect(kubectl(["get", "csur", "nojs-run", "-o", "jsonpath={.spec.state}"])).toBe("Stop");
  await context.close();
});
