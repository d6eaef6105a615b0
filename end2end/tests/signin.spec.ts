import { test, expect, Browser, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addUser, PASSWORD, setPassword } from "./support/signin";

// Sign-in and "who may" against the real binary: people added with `fleetdeck user add`, each
// acting on the hub as themselves; the hub's RBAC decides, the page says why a button is off.

test.use({ baseURL: process.env.BASE_URL });

const SHOTS = join(__dirname, "..", "screenshots");
mkdirSync(SHOTS, { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
const PHONE = { width: 390, height: 844 };

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input, timeout: 30_000 });
}

/// A run whose canary stage waits for approval (seed 002's shape, shortened).
function runWaitingForApproval(prefix: string) {
  kubectl(["create", "namespace", `${prefix}-ns`]);
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
    - name: canary
      labelSelector: {matchLabels: {environment: canary}}
      beforeStageTasks: [{type: Approval}]
`,
  );
  for (let i = 0; i < 100; i++) {
    const scheduled = kubectl(["get", "clusterschedulingpolicysnapshots", "-l", `kubernetes-fleet.io/parent-CRP=${prefix}-placement`, "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]);
    if (scheduled.includes("True")) break;
    execFileSync("sleep", ["0.1"]);
  }
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: ${prefix}-run}
spec: {placementName: ${prefix}-placement, stagedRolloutStrategyName: ${prefix}-strategy, state: Run}
`,
  );
}

/// A browser context nobody is signed in to.
async function signedOut(browser: Browser, extra: object = {}) {
  return browser.newContext({ baseURL: process.env.BASE_URL, storageState: { cookies: [], origins: [] }, ...extra });
}

async function dark(page: Page) {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.evaluate(() => {
    localStorage.setItem("fleetdeck-theme", "dark");
    document.documentElement.classList.add("dark");
  });
}

test("the sign-in page works without JavaScript and names a wrong password", async ({ browser }) => {
  const context = await signedOut(browser, { javaScriptEnabled: false, viewport: PHONE });
  const page = await context.newPage();
  await page.goto("/runs");
  await expect(page).toHaveURL(/\/signin\?next=%2Fruns$/);
  await page.screenshot({ path: join(SHOTS, "signin-light-phone.png"), fullPage: true });
  await page.getByLabel("Name").fill("admin");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("That name and password do not match an account. Check both and try again.");
  await expect(page.getByLabel("Name")).toHaveValue("admin");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page.locator("#acting-as")).toContainText("admin (fleetdeck-admin)");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1$/);
  await page.goto("/approvals");
  await expect(page).toHaveURL(/\/signin\?next=%2Fapprovals$/);
  await context.close();

  const night = await signedOut(browser, { viewport: PHONE, colorScheme: "dark" });
  const p = await night.newPage();
  await p.goto("/signin?error=limited&retry=12");
  await dark(p);
  await expect(p.getByRole("alert")).toHaveText("Too many sign-in attempts. Try again in 12 seconds.");
  await p.screenshot({ path: join(SHOTS, "signin-dark-phone.png"), fullPage: true });
  await night.close();
});

test("an approver added with fleetdeck user add approves from the inbox and is named in the run's history", async ({ browser }) => {
  runWaitingForApproval("signin");
  const link = addUser("alma", "approver");
  const context = await signedOut(browser);
  const page = await context.newPage();

  // The one-time link sets a password and signs in.
  await page.goto(link);
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("Type it again").fill(PASSWORD);
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(page.locator("#acting-as")).toContainText("alma (fleetdeck-approver)");

  // Signed out, the inbox sends her to sign in and back.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto("/approvals");
  await expect(page).toHaveURL(/\/signin\?next=%2Fapprovals$/);
  await page.getByLabel("Name").fill("alma");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/approvals$/);

  const request = page.locator('li.approval[data-request="signin-run-before-canary"]');
  await expect(request).toHaveAttribute("data-state", "pending", { timeout: 20_000 });
  await request.locator("details.approve > summary").click();
  await request.getByLabel("Comment (optional)").fill("canary looks fine");
  await request.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(request.locator(".approved-by")).toHaveText("Approved by alma: canary looks fine");

  await page.goto("/runs/signin-run");
  await expect(page.locator('#history .history-line[data-reason="Approved"][data-by="alma"]')).toHaveCount(1);
  expect(kubectl(["get", "clusterapprovalrequest", "signin-run-before-canary", "-o", "jsonpath={.status.conditions[?(@.type==\"Approved\")].message}"])).toBe("Approved by alma: canary looks fine");
  await context.close();
});

test("a viewer sees Approve disabled with its reason, and posting to the endpoint directly is refused", async ({ browser }) => {
  runWaitingForApproval("viewer");
  const session = await setPassword(addUser("vera", "viewer"));
  const host = new URL(process.env.BASE_URL ?? "").hostname;
  const context = await browser.newContext({
    baseURL: process.env.BASE_URL,
    viewport: PHONE,
    storageState: { cookies: [{ name: "fleetdeck_session", value: session, domain: host, path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Strict" }], origins: [] },
  });
  const page = await context.newPage();
  await page.goto("/approvals");
  const request = page.locator('li.approval[data-request="viewer-run-before-canary"]');
  await expect(request).toHaveAttribute("data-state", "pending", { timeout: 20_000 });
  const reason = "vera (fleetdeck-viewer) may not approve: needs patch on clusterapprovalrequests/status — ask an administrator";
  await expect(request.getByRole("button", { name: "Approve", exact: true })).toBeDisabled();
  await expect(request.locator(".gate-reason")).toHaveText(reason);
  await expect(request.locator("details.approve")).toBeHidden();
  await page.screenshot({ path: join(SHOTS, "approve-disabled-light-phone.png"), fullPage: true });
  await dark(page);
  await page.screenshot({ path: join(SHOTS, "approve-disabled-dark-phone.png"), fullPage: true });

  // The run page says the same, and Start/Stop/Delete are off too.
  await page.goto("/runs/viewer-run");
  await expect(page.locator(".gate-reason").first()).toBeVisible();
  await expect(page.locator("#run-delete-reason")).toHaveText("vera (fleetdeck-viewer) may not delete runs: needs delete on clusterstagedupdateruns — ask an administrator");

  // The endpoint itself refuses her: same origin, her cookie, the hub's RBAC decides.
  const answer = await page.evaluate(async () => {
    const res = await fetch("/api/approvals/approve", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: "namespace=&name=viewer-run-before-canary&comment=sneaky",
    });
    return { status: res.status, body: await res.text() };
  });
  expect(answer.status).toBe(403);
  expect(JSON.parse(answer.body)).toEqual({
    Forbidden:
      'the hub does not allow this: clusterapprovalrequests.placement.kubernetes-fleet.io "viewer-run-before-canary" is forbidden: User "vera" cannot patch resource "clusterapprovalrequests/status" in API group "placement.kubernetes-fleet.io" at the cluster scope — ask an administrator for the permission',
  });
  expect(kubectl(["get", "clusterapprovalrequest", "viewer-run-before-canary", "-o", "jsonpath={.status.conditions[?(@.type==\"Approved\")].status}"])).toBe("");
  await context.close();
});
