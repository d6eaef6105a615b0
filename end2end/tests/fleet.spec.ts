import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

/** kubectl against the fleetdeck under test, with a fresh discovery cache. */
function kubectl(...args: string[]): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  const cache = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cache, ...args], { encoding: "utf8" });
}

test("the fleet page lists the demo fleet with labels, on the server", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/fleet");
  const members = page.locator("#members article.member");
  await expect(members).toHaveCount(3);
  await expect(members.nth(0).locator("h2")).toHaveText("member1");
  await expect(members.nth(0).locator(".label")).toContainText(["environment=canary", "kubernetes-fleet.io/member-name=member1", "order=2"]);
  await expect(members.nth(1).locator(".joined")).toHaveText("Joined");
  await context.close();
});

test("a label set with kubectl appears on the fleet page without a reload", async ({ page }) => {
  await page.goto("/fleet");
  await expect(page.locator("#theme-toggle")).toHaveText(/Dark mode|Light mode/); // hydrated
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));

  kubectl("label", "membercluster", "member2", "tier=gold", "--overwrite");
  const member2 = page.locator('article[data-member="member2"]');
  await expect(member2.locator(".label")).toContainText(["tier=gold"]);
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
});

test("a placement shows up on every member with its snapshot index", async ({ page }) => {
  kubectl("create", "namespace", "e2e-namespace");
  kubectl("create", "configmap", "e2e-cm", "--from-literal=key=value1", "-n", "e2e-namespace");
  await page.goto("/fleet");
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  execFileSync("kubectl", ["--kubeconfig", process.env.FLEETDECK_KUBECONFIG!, "--cache-dir", mkdtempSync(join(tmpdir(), "kc-")), "apply", "-f", "-"], {
    encoding: "utf8",
    input: `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata:
  name: e2e-placement
spec:
  resourceSelectors:
    - {group: "", kind: Namespace, name: e2e-namespace, version: v1}
  policy: {placementType: PickAll}
`,
  });
  for (const member of ["member1", "member2", "member3"]) {
    const line = page.locator(`article[data-member="${member}"] li.placement[data-placement="e2e-placement"]`);
    await expect(line).toHaveAttribute("data-index", "0");
  }
  await page.screenshot({ path: join(ARTIFACTS, "fleet.png"), fullPage: true });
  expect(kubectl("--context", "member1", "get", "configmap", "e2e-cm", "-n", "e2e-namespace", "-o", "jsonpath={.data.key}")).toBe("value1");
});
