import { test, expect, Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Every page in light and dark and at phone width: checked with axe-core (WCAG 2 AA, colour
// contrast included) and for horizontal overflow, and photographed for a person to look at.

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts", "pages");
mkdirSync(ARTIFACTS, { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input });
}

const PAGES: [string, string][] = [
  ["overview", "/"],
  ["fleet", "/fleet"],
  ["runs", "/runs"],
  ["run", "/runs/pages-run"],
  ["new-run", "/runs/new"],
  ["approvals", "/approvals"],
  ["placements", "/placements"],
  // A diff, and a rollback panel (to the snapshot the run is rolling out: "would change nothing").
  ["placement", "/placements/pages-placement?from=0&to=0&rollback=0"],
  // The sign-in pages, with their error alert showing (a signed-in person may open them too).
  ["signin", "/signin?error=invalid&name=admin"],
  ["signin-setup", "/signin/setup?token=x&error=mismatch"],
];

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.map((v: any) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n: any) => n.target.join(" ")).join(", ")}`);
  });
  return violations;
}

test.beforeAll(() => {
  // Idempotent: a retried worker runs this again.
  kubectl(["apply", "-f", "-"], "apiVersion: v1\nkind: Namespace\nmetadata: {name: pages-ns}\n");
  kubectl(
    ["apply", "-f", "-"],
    `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: pages-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: pages-ns, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: pages-strategy}
spec:
  stages:
    - name: staging
      labelSelector: {matchLabels: {environment: staging}}
      afterStageTasks: [{type: TimedWait, waitTime: 1h}]
    - name: canary
      labelSelector: {matchLabels: {environment: canary}}
      sortingLabelKey: order
      beforeStageTasks: [{type: Approval}]
`,
  );
  for (let i = 0; i < 100; i++) {
    const scheduled = kubectl(["get", "clusterschedulingpolicysnapshots", "-l", "kubernetes-fleet.io/parent-CRP=pages-placement", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Scheduled\")].status}"]);
    if (scheduled.includes("True")) break;
    execFileSync("sleep", ["0.1"]);
  }
  kubectl(["apply", "-f", "-"], `apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata: {name: pages-run}
spec: {placementName: pages-placement, stagedRolloutStrategyName: pages-strategy, state: Run}
`);
});

// Eight pages, each loaded, hydrated, checked by axe and photographed: more than the default 30 s.
test.setTimeout(120_000);

for (const theme of ["light", "dark"] as const) {
  for (const [width, height, label] of [[1280, 900, "desktop"], [390, 844, "phone"]] as const) {
    test(`every page passes axe (WCAG AA) and fits the screen: ${theme}, ${label}`, async ({ page }) => {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      const problems: string[] = [];
      for (const [name, path] of PAGES) {
        await page.goto(path);
        await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
        if (name === "run") {
          // The wait's countdown is running: the page is in its richest state.
          await expect(page.locator('[data-gate="wait"]')).toHaveAttribute("data-state", "running");
        }
        if (name === "placement") await expect(page.locator("#rollback-impact")).toBeVisible();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) problems.push(`${name}: ${overflow}px wider than the screen`);
        for (const v of await axe(page)) problems.push(`${name}: ${v}`);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${theme}-${label}.png`), fullPage: true });
      }
      expect(problems, problems.join("\n")).toEqual([]);
    });
  }
}
