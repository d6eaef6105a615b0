import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(ARTIFACTS, { recursive: true });

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  const cache = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", cache, ...args], { encoding: "utf8", input });
}

test("a staged update run appears on the runs page and goes to Succeeded live", async ({ page }) => {
  await page.goto("/runs");
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.evaluate(() => ((window as any).__notReloaded = true));

  kubectl(["create", "namespace", "runs-namespace"]);
  kubectl(["create", "configmap", "runs-cm", "--from-literal=key=v1", "-n", "runs-namespace"]);
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: runs-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: runs-namespace, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: runs-strategy}
spec:
  stages:
    - {name: staging, labelSelector: {matchLabels: {environment: staging}}}
    - {name: canary, labelSelector: {matchLabels: {environment: canary}}, sortingLabelKey: order}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: runs-run}
spec: {placementName: runs-placement, stagedRolloutStrategyName: runs-strategy, state: Run}
`,
  );
  const row = page.locator('#runs tr.run[data-run="runs-run"]');
  await expect(row).toHaveAttribute("data-pill", "Succeeded");
  await expect(row.locator("td.stages")).toHaveText("2/2");
  expect(await page.evaluate(() => (window as any).__notReloaded)).toBe(true);
  await page.screenshot({ path: join(ARTIFACTS, "runs.png"), fullPage: true });
  expect(kubectl(["--context", "member3", "get", "configmap", "runs-cm", "-n", "runs-namespace", "-o", "jsonpath={.data.key}"])).toBe("v1");
});
