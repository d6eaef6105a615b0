import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Placements, snapshot diffs and rollback by picker, done only in the browser: kubectl sets the
// scene (seed 002's namespace, ConfigMap, placement and strategy; the ConfigMap's edit to value2)
// and checks the members; every run — value1, value2, then the rollback to snapshot 0 — is
// created, started and approved by clicks.

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
const MEMBERS = ["member1", "member2", "member3"];

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input });
}

/** Polls `check` (a kubectl read) until it returns true; kubectl, not the page, is the judge here. */
async function until(what: string, check: () => boolean) {
  await expect.poll(() => { try { return check(); } catch { return false; } }, { message: what, timeout: 30_000 }).toBe(true);
}

function memberValue(member: string): string {
  return kubectl(["--context", member, "get", "configmap", "rb-cm", "-n", "rb-ns", "-o", "jsonpath={.data.key}"]);
}

/** A run over the latest snapshot created, started and approved in the browser. */
async function rollOut(page: Page, run: string, value: string) {
  await page.goto("/runs/new");
  await page.getByLabel("Placement").selectOption("rb-placement");
  await page.getByLabel("Strategy").selectOption("rb-strategy");
  await page.getByLabel("Run name").fill(run);
  await page.getByLabel("Start at once").check();
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${run}$`));
  const gate = page.locator(`[data-gate="approval"][data-request="${run}-before-canary"]`);
  await expect(gate).toHaveAttribute("data-state", "waiting");
  await gate.locator("details.approve > summary").click();
  await gate.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(page.locator("#run-pill")).toHaveAttribute("data-pill", "Succeeded");
  for (const member of MEMBERS) expect(memberValue(member)).toBe(value);
}

async function markNoReload(page: Page) {
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));
}

test.setTimeout(180_000);

test("roll back by picker: history, the diff against what runs, the plan, then create, start and approve in the browser", async ({ page }) => {
  kubectl(["create", "namespace", "rb-ns"]);
  kubectl(["create", "configmap", "rb-cm", "--from-literal=key=value1", "-n", "rb-ns"]);
  kubectl(["apply", "-f", "-"], `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: rb-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: rb-ns, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: rb-strategy}
spec:
  stages:
    - name: staging
      labelSelector: {matchLabels: {environment: staging}}
    - name: canary
      labelSelector: {matchLabels: {environment: canary}}
      sortingLabelKey: order
      beforeStageTasks: [{type: Approval}]
`);
  await until("rb-placement scheduled", () =>
    kubectl(["get", "clusterschedulingpolicysnapshots", "-l", "kubernetes-fleet.io/parent-CRP=rb-placement", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]).includes("True"));
  await rollOut(page, "rb-run-1", "value1");
  kubectl(["patch", "configmap", "rb-cm", "-n", "rb-ns", "--type", "merge", "-p", '{"data":{"key":"value2"}}']);
  // External placement: no snapshot 1 until a run asks for the latest (spec §10.2).
  await rollOut(page, "rb-run-2", "value2");

  // The placement: every cluster on #1, two snapshots in its history with the runs that used them.
  await page.goto("/placements");
  await markNoReload(page);
  await page.getByRole("link", { name: "rb-placement", exact: true }).click();
  await expect(page).toHaveURL(/\/placements\/rb-placement$/);
  for (const member of MEMBERS) {
    await expect(page.locator(`#matrix tr[data-cluster="${member}"]`)).toHaveAttribute("data-index", "1");
  }
  const history = page.locator("#history tr.snapshot");
  await expect(history).toHaveCount(2);
  await expect(history.nth(0)).toHaveAttribute("data-index", "1");
  await expect(history.nth(0)).toContainText("rb-run-2");
  await expect(history.nth(1)).toContainText("rb-run-1");

  // Pick #0: the impact and the diff of what the clusters run (#1) against it.
  await page.getByRole("link", { name: "Roll back to snapshot 0" }).click();
  await expect(page).toHaveURL(/rollback=0/);
  await expect(page.locator("#rollback-title")).toHaveText("Roll back to snapshot #0");
  await expect(page.locator("#rollback-impact")).toContainText("3 clusters would change; 0 already run #0.");
  await expect(page.locator("#rollback-strategy-select")).toHaveValue("rb-strategy");
  await expect(page.locator('#rollback-stages li[data-stage="staging"]')).toContainText("member2");
  await expect(page.locator('#rollback-stages li[data-stage="canary"]')).toContainText("member3, member1");
  await page.locator("#rollback").getByRole("link", { name: "See the diff" }).click();
  const configmap = page.locator('#diff details.resource-diff[data-change="Changed"]');
  await expect(configmap).toHaveCount(1);
  await expect(configmap).toContainText("rb-cm");
  // The compare form shows the pair the link opened.
  await expect(page.locator("#diff-from")).toHaveValue("1");
  await expect(page.locator("#diff-to")).toHaveValue("0");
  await expect(configmap.locator("pre.unified")).toContainText(/-\s+key: value2/);
  await expect(configmap.locator("pre.unified")).toContainText(/\+\s+key: value1/);
  // Server-managed fields are hidden unless asked for.
  await expect(configmap).not.toContainText("resourceVersion");
  await page.screenshot({ path: join(ARTIFACTS, "rollback-plan.png"), fullPage: true });
  // The same diff side by side (a plain GET: the form's fields are the URL), in another tab.
  const split = await page.context().newPage();
  await split.goto("/placements/rb-placement?from=1&to=0&layout=split#diff");
  const row = split.locator('#diff table.split tr').filter({ hasText: "value2" });
  await expect(row).toContainText("value1"); // old on the left, new on the right, one row
  await split.locator("#diff").screenshot({ path: join(ARTIFACTS, "diff-split.png") });
  await split.close();

  // Create the run in Initialize: the run page shows the stages it computed, and nothing moved.
  await page.getByRole("button", { name: "Create the rollback run" }).click();
  await expect(page).toHaveURL(/\/runs\/rb-placement-rollback-0-/);
  const pill = page.locator("#run-pill");
  await expect(pill).toHaveAttribute("data-pill", "Initialized");
  await expect(page.locator('li.stage[data-stage="canary"] li.chip')).toHaveText([/member3/, /member1/]);
  for (const member of MEMBERS) expect(memberValue(member)).toBe("value2");
  const run = kubectl(["get", "csur", "-o", "jsonpath={.items[?(@.spec.resourceSnapshotIndex==\"0\")].metadata.name}"]).trim();
  expect(run).toMatch(/^rb-placement-rollback-0-/);
  expect(kubectl(["get", "csur", run, "-o", "jsonpath={.spec.state}"])).toBe("Initialize");

  // Start, approve the canary gate on the run page, and the members hold value1 again.
  await page.locator('details[data-action="start"] > summary').click();
  await page.getByRole("button", { name: "Start the run" }).click();
  const gate = page.locator(`[data-gate="approval"][data-request="${run}-before-canary"]`);
  await expect(gate).toHaveAttribute("data-state", "waiting");
  await gate.locator("details.approve > summary").click();
  await gate.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(pill).toHaveAttribute("data-pill", "Succeeded");
  for (const member of MEMBERS) expect(memberValue(member)).toBe("value1");
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);

  // Back on the placement, every cluster runs #0, and the page followed without a reload.
  await page.goto("/placements/rb-placement");
  for (const member of MEMBERS) {
    await expect(page.locator(`#matrix tr[data-cluster="${member}"]`)).toHaveAttribute("data-index", "0");
  }
  await expect(page.locator("#placement-headline")).toHaveText(/^All 3 clusters run snapshot 0 and it is available; the latest, snapshot 1, is not rolled out/);
  await page.screenshot({ path: join(ARTIFACTS, "placement-after-rollback.png"), fullPage: true });
});
