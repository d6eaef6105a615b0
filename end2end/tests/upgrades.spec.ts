import { test, expect, Page } from "@playwright/test";
import { ADMIN_STATE, addUser, setPassword, writeState } from "./support/signin";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The upgrade-run console (seed 004) against the real binary and its demo fleet — member1 and
// member3 (environment=canary) and member2 (environment=staging), simulated clusters at
// Kubernetes 1.25.6 that take a few seconds per upgrade. Each run is created with kubectl as an
// operator would; everything after that is done and observed in one page that never reloads.

test.use({ baseURL: process.env.BASE_URL });
test.describe.configure({ mode: "serial" });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input });
}

async function markNoReload(page: Page) {
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));
}

async function notReloaded(page: Page) {
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
}

/// An upgrade run with an inline strategy; the engine plans it at once (NotStarted).
function createRun(name: string, upgrade: string, stages: string) {
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: updates.fleetdeck.dev/v1alpha1
kind: UpdateRun
metadata: {name: ${name}}
spec:
  managedClusterUpdate:
    upgrade: ${upgrade}
  strategy:
    stages:
${stages}
`,
  );
}

/// Opens the confirmation of `action` inside `scope` and confirms it with `confirm`.
async function act(scope: ReturnType<Page["locator"]>, action: string, confirm: string) {
  const details = scope.locator(`details[data-action="${action}"]`).first();
  await details.locator("> summary").click();
  await details.getByRole("button", { name: confirm }).click();
}

/// The theme toggle, as a person uses it (the system preference only counts at page load).
async function setTheme(page: Page, theme: "light" | "dark") {
  // The toggle works once the page is hydrated.
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  const html = page.locator("html");
  const dark = await html.evaluate((e) => e.classList.contains("dark"));
  if (dark !== (theme === "dark")) await page.locator("#theme-toggle").click();
  if (theme === "dark") await expect(html).toHaveClass(/\bdark\b/);
  else await expect(html).not.toHaveClass(/\bdark\b/);
}

const pill = (page: Page) => page.locator("#upgrade-pill .pill");
const member = (page: Page, name: string) => page.locator(`li.member[data-member="${name}"]`);

test("start a run from the browser, watch its members upgrade live, stop it", async ({ page }) => {
  createRun(
    "e2e-upgrade",
    "{type: ControlPlaneOnly, kubernetesVersion: 1.26.0}",
    `      - name: canary
        groups: [{name: canaries, memberSelector: {byLabel: environment=canary}}]
      - name: staging
        groups: [{name: stagers, memberSelector: {byLabel: environment=staging}}]`,
  );
  await page.goto("/upgrades");
  const row = page.locator('tr.upgrade[data-run="e2e-upgrade"]');
  await expect(row).toBeVisible();
  await expect(row.locator(".upgrade-type")).toHaveText("ControlPlaneOnly");
  await expect(row.locator(".target")).toHaveText("Kubernetes 1.26.0");
  await row.getByRole("link", { name: "e2e-upgrade" }).click();
  await expect(page).toHaveURL(/\/upgrades\/e2e-upgrade$/);
  await expect(pill(page)).toHaveAttribute("data-state", "NotStarted");
  // Before the start the page shows where each member is going.
  await expect(member(page, "member1").locator(".versions")).toContainText(/Kubernetes: 1\.25\.6\s*→\s*to 1\.26\.0/);
  await markNoReload(page);

  await act(page.locator("#upgrade-actions"), "start", "Start the run");
  await expect(pill(page)).toHaveAttribute("data-state", "Running");
  await expect(page.locator("#upgrade-now")).toContainText("Running");
  // One member at a time within the group: member1 first (by name), upgrading, then done.
  await expect(member(page, "member1")).toHaveAttribute("data-state", "Running");
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-running.png"), fullPage: true });
  await expect(member(page, "member1")).toHaveAttribute("data-state", "Completed", { timeout: 20_000 });
  // Done, it still says what it ran before.
  await expect(member(page, "member1").locator(".versions")).toContainText(/Kubernetes: 1\.25\.6\s*→\s*to 1\.26\.0/);
  await expect(member(page, "member1").locator(".times")).toContainText("took");

  // Stop: the member in flight finishes, nothing new starts.
  await act(page.locator("#upgrade-actions"), "stop", "Stop the run");
  await expect(pill(page)).toHaveAttribute("data-state", /Stopping|Stopped/);
  await expect(pill(page)).toHaveAttribute("data-state", "Stopped", { timeout: 20_000 });
  await expect(page.locator("#upgrade-now")).toContainText("Stopped");
  await expect(page.locator('li.stage[data-stage="staging"]')).toHaveAttribute("data-state", "NotStarted");
  await expect(member(page, "member2")).toHaveAttribute("data-state", "NotStarted");
  expect(kubectl(["get", "membercluster", "member2", "-o", "jsonpath={.status.fleetdeck\\.dev/managedCluster.kubernetesVersion}"])).toBe("1.25.6");
  // Start is offered again; Stop is not.
  await expect(page.locator('#upgrade-actions details[data-action="start"]')).toBeVisible();
  await expect(page.locator('#upgrade-actions details[data-action="stop"]')).toHaveCount(0);
  await notReloaded(page);
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-stopped.png"), fullPage: true });

  // The list follows too.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Upgrades" }).click();
  await expect(row).toHaveAttribute("data-state", "Stopped");
  await page.screenshot({ path: join(ARTIFACTS, "upgrades-list.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, "upgrades-list-phone.png"), fullPage: true });
});

test("skip a group from the browser", async ({ page }) => {
  createRun(
    "e2e-skip",
    "{type: NodeImageOnly}",
    `      - name: all
        groups:
          - {name: skip-canaries, memberSelector: {byLabel: environment=canary}}
          - {name: skip-stagers, memberSelector: {byLabel: environment=staging}}`,
  );
  await page.goto("/upgrades/e2e-skip");
  await expect(pill(page)).toHaveAttribute("data-state", "NotStarted");
  await markNoReload(page);
  const group = page.locator('li.group-node[data-group="skip-stagers"]');
  await expect(group).toHaveAttribute("data-state", "NotStarted");
  await act(group, "skipgroup", "Skip skip-stagers");
  await expect(group).toHaveAttribute("data-state", "Skipped");
  await expect(member(page, "member2")).toHaveAttribute("data-state", "Skipped");
  await expect(member(page, "member2").locator(".message")).toHaveText("skipped by the user");
  // A skipped group offers no skip; the other group still does.
  await expect(group.locator('details[data-action="skipgroup"]')).toHaveCount(0);
  await expect(page.locator('li.group-node[data-group="skip-canaries"] details[data-action="skipgroup"]')).toHaveCount(1);
  await notReloaded(page);
});

test("without JavaScript the run page reads whole and Skip works as a plain form", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE, baseURL: process.env.BASE_URL });
  const page = await context.newPage();
  await page.goto("/upgrades/e2e-skip");
  await expect(pill(page)).toHaveAttribute("data-state", "NotStarted");
  await expect(member(page, "member1").locator(".versions")).toContainText("nodepool1:");
  const m1 = member(page, "member1");
  await m1.locator('details[data-action="skipmember"] > summary').click();
  await expect(m1.locator('details[data-action="skipmember"]')).toContainText("Member member1 is not upgraded by this run");
  await m1.getByRole("button", { name: "Skip member1" }).click();
  // The server function answers a plain form with a redirect back to the run page.
  await expect(page).toHaveURL(/\/upgrades\/e2e-skip\??$/);
  await expect(member(page, "member1")).toHaveAttribute("data-state", "Skipped");
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-no-js.png"), fullPage: true });
  await context.close();
});

test("approve a gate from the browser", async ({ page }) => {
  createRun(
    "e2e-gate",
    "{type: NodeImageOnly}",
    `      - name: gated
        beforeGates: [{type: Approval, displayName: e2e sign-off}]
        groups: [{name: gated-stagers, memberSelector: {byLabel: environment=staging}}]`,
  );
  await page.goto("/upgrades/e2e-gate");
  await markNoReload(page);
  const stage = page.locator('li.stage[data-stage="gated"]');
  await expect(stage.locator(".gate")).toContainText("not reached yet");
  await act(page.locator("#upgrade-actions"), "start", "Start the run");
  // The run reaches the gate and waits for a person.
  await expect(pill(page)).toHaveAttribute("data-state", "Pending");
  await expect(page.locator("#upgrade-now")).toContainText("waiting for approval of gate e2e sign-off");
  const gate = stage.locator(".gate");
  await expect(gate).toContainText("waiting for approval");
  for (const theme of ["light", "dark"]) {
    if (theme === "dark") await setTheme(page, "dark");
    for (const [width, height, suffix] of [[1280, 900, ""], [390, 844, "-phone"]] as const) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: join(ARTIFACTS, `upgrade-gate-${theme}${suffix}.png`), fullPage: true });
    }
  }
  await setTheme(page, "light");
  await page.setViewportSize({ width: 1280, height: 900 });
  await act(gate, "approve", "Approve the gate");
  await expect(gate).toHaveAttribute("data-state", "Completed");
  await expect(gate).toContainText("approved");
  // Past the gate, the member is upgraded.
  await expect(member(page, "member2")).toHaveAttribute("data-state", /Running|Completed/);
  await expect(pill(page)).toHaveAttribute("data-state", "Completed", { timeout: 20_000 });
  await expect(member(page, "member2").locator(".versions")).toContainText("→");
  await notReloaded(page);
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-completed.png"), fullPage: true });
  await setTheme(page, "dark");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-completed-dark-phone.png"), fullPage: true });
});

test("the after-stage wait counts down, and Skip ends it from the browser", async ({ page }) => {
  createRun(
    "e2e-wait",
    "{type: ControlPlaneOnly, kubernetesVersion: 1.26.0}",
    `      - name: first
        groups: [{name: wait-stagers, memberSelector: {byLabel: environment=staging}}]
        afterStageWaitInSeconds: 3600
      - name: second
        groups: [{name: wait-canaries, memberSelector: {byLabel: environment=canary}}]`,
  );
  await page.goto("/upgrades/e2e-wait");
  await markNoReload(page);
  await act(page.locator("#upgrade-actions"), "start", "Start the run");
  const first = page.locator('li.stage[data-stage="first"]');
  const wait = first.locator(".wait");
  await expect(member(page, "member2")).toHaveAttribute("data-state", "Completed", { timeout: 20_000 });
  await expect(wait).toHaveAttribute("data-state", "Running");
  await expect(wait).toContainText(/Wait 1 h 0 min after stage first: 59 min \d+ s left/);
  await expect(page.locator("#upgrade-now")).toContainText("Running: waiting after stage first until");
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-wait.png"), fullPage: true });
  await act(wait, "skipafterstagewait", "End the wait after first");
  await expect(wait).toHaveAttribute("data-state", "Skipped");
  await expect(wait).toContainText("skipped");
  // The run goes on with the next stage (its members already run 1.26.0: nothing to do).
  await expect(page.locator('li.stage[data-stage="second"]')).not.toHaveAttribute("data-state", "NotStarted");
  await expect(pill(page)).toHaveAttribute("data-state", "Completed", { timeout: 20_000 });
  await notReloaded(page);
});

test("the Fleet page shows each member's versions and update group", async ({ page }) => {
  kubectl(["label", "membercluster", "member3", "updates.fleetdeck.dev/group=group-e2e", "--overwrite"]);
  await page.goto("/fleet");
  const m3 = page.locator('tr.member[data-member="member3"]');
  await expect(m3.locator(".kubernetes")).toHaveText(/^1\.2[56]\.\d+$/);
  await expect(m3.locator(".node-images")).toContainText("nodepool1: AKSUbuntu-2204gen2containerd-");
  await expect(m3.locator(".update-group")).toHaveText("group-e2e");
  await page.screenshot({ path: join(ARTIFACTS, "fleet-versions.png"), fullPage: true });
  await setTheme(page, "dark");
  await page.screenshot({ path: join(ARTIFACTS, "fleet-versions-dark.png"), fullPage: true });
  kubectl(["label", "membercluster", "member3", "updates.fleetdeck.dev/group-"]);
  await expect(m3.locator(".update-group")).toHaveText("—");
});

test("a viewer sees the run's actions disabled, with the permission they lack", async ({ browser }) => {
  const state = join(mkdtempSync(join(tmpdir(), "upgrades-viewer-")), "state.json");
  writeState(state, await setPassword(addUser("uma", "viewer")));
  const context = await browser.newContext({ baseURL: process.env.BASE_URL, storageState: state });
  const page = await context.newPage();
  // e2e-upgrade is Stopped: Start applies, but not for her.
  await page.goto("/upgrades/e2e-upgrade");
  await expect(pill(page)).toHaveAttribute("data-state", "Stopped");
  const start = page.locator('#upgrade-actions button[data-action="start"]');
  await expect(start).toBeDisabled();
  await expect(start).toHaveAttribute("aria-describedby", "upgrade-change-reason");
  await expect(page.locator("#upgrade-change-reason")).toHaveText(
    "uma (fleetdeck-viewer) may not start, stop or skip upgrade runs: needs update on updateruns/status — ask an administrator",
  );
  await expect(page.locator('#upgrade-actions details[data-action="start"]')).toHaveCount(0);
  // No gate waits here, so no approval reason either.
  await expect(page.locator("#upgrade-approve-reason")).toHaveCount(0);
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-viewer.png"), fullPage: true });
  await context.close();
});

test("generate a run from an auto-upgrade profile, then delete it, from the browser", async ({ page }) => {
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: updates.fleetdeck.dev/v1alpha1
kind: AutoUpgradeProfile
metadata: {name: e2e-profile}
spec: {channel: Rapid}
`,
  );
  await page.goto("/upgrades");
  const profile = page.locator('tr.profile[data-profile="e2e-profile"]');
  await expect(profile).toBeVisible();
  await expect(profile).toContainText("Rapid");
  await markNoReload(page);
  await setTheme(page, "light");
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-profiles-light.png"), fullPage: true });

  // Generate: a run named after the profile appears in the list, not started.
  await act(profile, "generate", "Generate the run");
  const generated = page.locator('tr.upgrade[data-run^="e2e-profile-"]');
  await expect(generated).toHaveCount(1);
  await expect(generated).toHaveAttribute("data-state", "NotStarted");
  const name = await generated.getAttribute("data-run");
  expect(kubectl(["get", "updaterun", name!, "-o", "jsonpath={.spec.autoUpgradeProfileId}"])).toContain("e2e-profile");
  // Generating again shows the same run rather than a second one (the confirmation may still
  // be open from the first time).
  const again = profile.locator('details[data-action="generate"]');
  if (!(await again.evaluate((d) => (d as HTMLDetailsElement).open))) await again.locator("> summary").click();
  await again.getByRole("button", { name: "Generate the run" }).click();
  await expect(page.locator('tr.upgrade[data-run^="e2e-profile-"]')).toHaveCount(1);
  await notReloaded(page);
  await setTheme(page, "dark");
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-profiles-dark.png"), fullPage: true });

  // The run says where it came from; Delete removes it, and the list follows.
  await generated.getByRole("link", { name: name! }).click();
  await expect(page).toHaveURL(new RegExp(`/upgrades/${name}$`));
  await expect(page.locator("main")).toContainText("e2e-profile");
  await act(page.locator("#upgrade-actions"), "delete", "Delete the run");
  // Deleted, the page goes back to the list, which no longer has it.
  await expect(page).toHaveURL(/\/upgrades$/);
  await expect(page.locator('tr.profile[data-profile="e2e-profile"]')).toBeVisible();
  await expect(page.locator('tr.upgrade[data-run^="e2e-profile-"]')).toHaveCount(0);
  expect(kubectl(["get", "updateruns", "-o", "name"])).not.toContain(name!);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, "upgrade-profiles-phone.png"), fullPage: true });
});
