import { test, expect, Page } from "@playwright/test";
import { ADMIN_STATE } from "./support/signin";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The Fleet page: counts, search, label selector, health filter and paging (also without
// JavaScript), a members × placements table that follows a rollout, and a member whose agent
// stops going stale — each change observed in the DOM without a reload.

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

/** kubectl against the fleetdeck under test. */
function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input });
}

/** Marks the page so that a reload would be noticed. */
async function live(page: Page) {
  await expect(page.locator("#theme-toggle")).toHaveText(/Dark mode|Light mode/); // hydrated
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));
}

async function notReloaded(page: Page) {
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
}

const rows = (page: Page) => page.locator("#members tbody tr.member");
const names = (page: Page) => rows(page).locator(".name");

test("the fleet page renders, filters and pages without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE });
  const page = await context.newPage();
  await page.goto("/fleet");
  await expect(names(page)).toHaveText(["member1", "member2", "member3"]);
  await expect(page.locator('#fleet-counts [data-count="members"]')).toContainText("3");
  await expect(page.locator('#fleet-counts [data-count="joined"]')).toContainText("3");
  // The status is the first column.
  await expect(page.locator("#members thead th").first()).toHaveText("Status");
  await expect(rows(page).nth(0).locator("td").first()).toContainText("Joined");
  await expect(rows(page).nth(0).locator(".label")).toContainText(["environment=canary", "order=2"]);
  await expect(rows(page).nth(0).locator(".seen")).toContainText(/beat (just now|.* ago)/);

  // The form is a plain GET: the filters are the URL.
  await page.fill("#fleet-labels", "environment in (canary),order");
  await page.click('#fleet-filters button[type="submit"]');
  await expect(page).toHaveURL(/labels=environment/);
  await expect(names(page)).toHaveText(["member1", "member3"]);
  await expect(page.locator("#fleet-range")).toHaveText("Members 1–2 of 2 matching");

  await page.goto("/fleet?q=MEMBER2");
  await expect(names(page)).toHaveText(["member2"]);
  await page.goto("/fleet?labels=environment%20in%20(");
  await expect(page.locator("#selector-error")).toContainText("cannot read the label selector");
  await expect(rows(page)).toHaveCount(0);
  await context.close();
});

test("paging: 50 members a page, links keep the filters", async ({ browser }) => {
  // Sixty more MemberClusters, created with kubectl: in the embedded mode each starts a simulated
  // member and joins, so their health changes while the test reads; paging and the label filter
  // do not depend on it.
  const extra = Array.from({ length: 60 }, (_, i) => `extra-${String(i).padStart(2, "0")}`);
  kubectl(
    ["apply", "-f", "-"],
    extra
      .map(
        (name) => `apiVersion: cluster.kubernetes-fleet.io/v1beta1
kind: MemberCluster
metadata: {name: ${name}, labels: {batch: extra}}
spec: {identity: {kind: ServiceAccount, name: agent, namespace: fleet-system}}
`,
      )
      .join("---\n"),
  );
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE });
    const page = await context.newPage();
    await expect(async () => {
      await page.goto("/fleet");
      await expect(page.locator('#fleet-counts [data-count="members"]')).toContainText("63", { timeout: 1000 });
    }).toPass();
    await expect(rows(page)).toHaveCount(50);
    await expect(page.locator("#fleet-pager")).toContainText("Page 1 of 2");
    await page.click('#fleet-pager a[rel="next"]');
    await expect(page).toHaveURL(/page=2/);
    await expect(rows(page)).toHaveCount(13);
    await expect(names(page).first()).toHaveText("extra-50");
    await expect(names(page).last()).toHaveText("member3");

    // Filters and paging together, once all sixty have joined: the next link keeps both.
    await expect(async () => {
      await page.goto("/fleet?labels=batch%3Dextra&health=joined");
      await expect(page.locator("#fleet-range")).toHaveText("Members 1–50 of 60 matching", { timeout: 1000 });
    }).toPass();
    await page.click('#fleet-pager a[rel="next"]');
    await expect(page).toHaveURL(/labels=batch%3Dextra&health=joined&page=2/);
    await expect(names(page)).toHaveText(extra.slice(50));
    await context.close();
  } finally {
    kubectl(["delete", "membercluster", ...extra, "--wait=false"]);
  }
});

test("a label set with kubectl appears on the fleet page without a reload", async ({ page }) => {
  await page.goto("/fleet");
  await live(page);
  kubectl(["label", "membercluster", "member2", "tier=gold", "--overwrite"]);
  await expect(page.locator('tr[data-member="member2"] .label')).toContainText(["tier=gold"]);
  // A filter typed in the browser narrows the rows, then the live link keeps the narrowed view.
  await page.fill("#fleet-labels", "tier=gold");
  await page.press("#fleet-labels", "Enter");
  await expect(names(page)).toHaveText(["member2"]);
  kubectl(["label", "membercluster", "member3", "tier=gold", "--overwrite"]);
  await expect(names(page)).toHaveText(["member2", "member3"]);
  kubectl(["label", "membercluster", "member2", "member3", "tier-"]);
  await expect(rows(page)).toHaveCount(0);
  await notReloaded(page);
});

test("a placement's snapshot index moves cell by cell without a reload", async ({ page }) => {
  kubectl(["create", "namespace", "e2e-namespace"]);
  kubectl(["create", "configmap", "e2e-cm", "--from-literal=key=value1", "-n", "e2e-namespace"]);
  await page.goto("/fleet");
  await live(page);
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata:
  name: e2e-placement
spec:
  resourceSelectors:
    - {group: "", kind: Namespace, name: e2e-namespace, version: v1}
  policy: {placementType: PickAll}
`,
  );
  const cell = (member: string) => page.locator(`tr[data-member="${member}"] td.cell[data-placement="e2e-placement"]`);
  for (const member of ["member1", "member2", "member3"]) {
    await expect(cell(member)).toHaveAttribute("data-index", "0");
    await expect(cell(member)).toHaveAttribute("data-available", "true");
    await expect(cell(member).locator(".state")).toHaveText("✓ available");
  }
  await expect(page.locator('#placement-counts [data-placement="e2e-placement"] .available')).toHaveText("3 of 3 available · 0 not yet");
  expect(kubectl(["--context", "member1", "get", "configmap", "e2e-cm", "-n", "e2e-namespace", "-o", "jsonpath={.data.key}"])).toBe("value1");

  // A new resource snapshot rolls out (RollingUpdate): every cell moves to index 1.
  kubectl(["patch", "configmap", "e2e-cm", "-n", "e2e-namespace", "--type", "merge", "-p", '{"data":{"key":"value2"}}']);
  for (const member of ["member1", "member2", "member3"]) {
    await expect(cell(member)).toHaveAttribute("data-index", "1");
  }
  await expect(page.locator('#placement-counts [data-placement="e2e-placement"] .indexes')).toHaveText("snapshot 1 on 3");
  await notReloaded(page);
});

test("a member whose agent stops goes stale without a reload, and recovers", async ({ page }) => {
  await page.goto("/fleet");
  await live(page);
  const member3 = page.locator('tr[data-member="member3"]');
  await expect(member3).toHaveAttribute("data-health", "joined");
  // A one-second period makes stale mean "silent for more than 3 s".
  kubectl(["patch", "membercluster", "member3", "--type", "merge", "-p", '{"spec":{"heartbeatPeriodSeconds":1}}']);
  kubectl(["annotate", "membercluster", "member3", "sim.fleetdeck.dev/agent-stopped=true", "--overwrite"]);
  await expect(member3).toHaveAttribute("data-health", "stale");
  await expect(member3.locator(".health")).toHaveText("⚠ Stale heartbeat");
  await expect(page.locator('#fleet-counts [data-count="stale"]')).toContainText("1");
  await expect(page.locator("#fleet-sentence")).toContainText("1 with a stale heartbeat");
  await notReloaded(page);

  for (const [theme, width, height, name] of [
    ["light", 1280, 900, "fleet-light"],
    ["dark", 1280, 900, "fleet-dark"],
    ["dark", 390, 844, "fleet-dark-phone"],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.emulateMedia({ colorScheme: theme });
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  kubectl(["annotate", "membercluster", "member3", "sim.fleetdeck.dev/agent-stopped-"]);
  await expect(member3).toHaveAttribute("data-health", "joined");
  await expect(page.locator('#fleet-counts [data-count="stale"]')).toContainText("0");
  kubectl(["patch", "membercluster", "member3", "--type", "merge", "-p", '{"spec":{"heartbeatPeriodSeconds":60}}']);
  await notReloaded(page);
});
