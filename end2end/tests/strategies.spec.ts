import { test, expect, Page } from "@playwright/test";
import { ADMIN_STATE } from "./support/signin";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The Strategies pages: the list, the editor with its plan preview computed in the browser (no
// request while the form changes), the hub's own messages beside the fields, save, clone and
// delete checked with kubectl, a kubectl edit reaching the open page, and every page through axe
// in both themes at desktop and phone width.

test.use({ baseURL: process.env.BASE_URL });

const ARTIFACTS = join(__dirname, "..", "artifacts");
mkdirSync(join(ARTIFACTS, "pages"), { recursive: true });
const CACHE = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

function kubectl(args: string[], input?: string): string {
  const kubeconfig = process.env.FLEETDECK_KUBECONFIG;
  if (!kubeconfig) throw new Error("FLEETDECK_KUBECONFIG is not set: run the tests through global-setup.ts");
  return execFileSync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", CACHE, ...args], { encoding: "utf8", input });
}

async function until(what: string, check: () => boolean) {
  await expect.poll(() => { try { return check(); } catch { return false; } }, { message: what, timeout: 30_000 }).toBe(true);
}

/** Fails the test on any uncaught error in the page (a broken hydration shows up here). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The hub's refusals are answers the page shows, not errors of the page.
  page.on("console", (m) => { if (m.type() === "error" && !m.text().includes("status of 422")) errors.push(m.text()); });
  return errors;
}

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  return page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.map((v: any) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n: any) => n.target.join(" ")).join(", ")}`);
  });
}

/** The clusters the preview puts in `stage`, in order. */
function previewOf(page: Page, stage: string) {
  return page.locator(`#preview [data-stage="${stage}"] .cluster`);
}

test.beforeAll(async () => {
  // apply, not create: a failed test starts a new worker, which runs this again.
  kubectl(["apply", "-f", "-"], `apiVersion: v1
kind: Namespace
metadata: {name: st-ns}
---
apiVersion: v1
kind: Namespace
metadata: {name: st-team}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata: {name: st-placement}
spec:
  resourceSelectors: [{group: "", kind: Namespace, name: st-ns, version: v1}]
  policy: {placementType: PickAll}
  strategy: {type: External}
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata: {name: st-strategy}
spec:
  stages:
    - name: staging
      labelSelector: {matchLabels: {environment: staging}}
      maxConcurrency: 30%
      afterStageTasks: [{type: TimedWait, waitTime: 1m}]
    - name: canary
      labelSelector: {matchLabels: {environment: canary}}
      sortingLabelKey: order
      maxConcurrency: 2
      beforeStageTasks: [{type: Approval}]
      afterStageTasks: [{type: Approval}]
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateStrategy
metadata: {name: team-strategy, namespace: st-team}
spec:
  stages:
    - name: dev
      labelSelector: {matchLabels: {environment: staging}}
    - name: prod
      labelSelector: {matchLabels: {environment: canary}}
      sortingLabelKey: order
`);
  await until("st-placement scheduled on the three members", () =>
    kubectl(["get", "clusterresourcebindings", "-l", "kubernetes-fleet.io/parent-CRP=st-placement", "-o", "name"]).trim().split("\n").length === 3);
});

test("the preview follows the form in the browser; the hub's messages show by their fields; save reaches kubectl", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto("/strategies");
  const row = page.locator('#strategies tr[data-strategy="st-strategy"]');
  await expect(row.locator(".stages")).toHaveText("2 stages: staging, then canary");
  await expect(page.locator('#strategies tr[data-strategy="st-team/team-strategy"] .stages')).toHaveText("2 stages: dev, then prod");
  await row.getByRole("link", { name: "st-strategy" }).click();
  await expect(page).toHaveURL(/\/strategies\/st-strategy$/);
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");

  await page.getByLabel("Clusters of").selectOption("st-placement");
  await expect(previewOf(page, "staging")).toHaveText(["member2"]);
  await expect(previewOf(page, "canary")).toHaveText(["member3", "member1"]);
  await expect(page.locator('#preview [data-stage="canary"] .batch')).toHaveCount(1);
  await expect(page.locator("#preview-verdict")).toContainText("would initialize");

  // Edit the canary stage's selector: the preview moves, and the browser asks nothing for it.
  // (The page still follows the hub: a change there — a member's heartbeat is one — makes it
  // look at its strategy again, which is not a question about the preview.)
  const requests: string[] = [];
  page.on("request", (r) => {
    if (!r.url().endsWith("/api/strategies/get")) requests.push(`${r.method()} ${r.url()}`);
  });
  const canary = page.locator("fieldset.stage").nth(1);
  await canary.getByLabel("Clusters (label selector)").fill("environment=canary,order=2");
  await expect(previewOf(page, "canary")).toHaveText(["member1"]);
  await expect(page.locator("#preview-unmatched .cluster")).toHaveText(["member3"]);
  await expect(page.locator("#preview-unmatched")).toContainText("some clusters are not placed in any stage, total 1, showing up to 10: member3");
  await page.screenshot({ path: join(ARTIFACTS, "strategy-preview-unmatched.png"), fullPage: true });
  await canary.getByLabel("Clusters (label selector)").fill("environment in (canary)");
  await canary.getByLabel("Max concurrency").fill("1");
  await expect(previewOf(page, "canary")).toHaveText(["member3", "member1"]);
  await expect(page.locator('#preview [data-stage="canary"] .batch')).toHaveCount(2);
  await expect(page.locator("#strategy-yaml")).toContainText("operator: In");
  expect(requests, "no request for the preview while editing").toEqual([]);

  // An invalid maxConcurrency: the hub's own message, beside the field.
  const max = canary.getByLabel("Max concurrency");
  for (const [typed, said] of [["0", "maxConcurrency must be at least 1"], ["abc", "spec.stages[1].maxConcurrency in body should match '^(100|[1-9][0-9]?)%$'"]]) {
    await max.fill(typed);
    await page.getByRole("button", { name: "Check with the hub" }).click();
    await expect(canary.locator('[id$="-max-msg"]')).toContainText(said);
    await expect(max).toHaveAttribute("aria-invalid", "true");
  }
  await page.screenshot({ path: join(ARTIFACTS, "strategy-invalid.png"), fullPage: true });
  await max.fill("1");
  await expect(canary.locator('[id$="-max-msg"]')).toHaveText("");

  // A third stage, moved up and back down; then save behind its confirmation.
  await page.getByRole("button", { name: "+ Add a stage" }).click();
  const third = page.locator("fieldset.stage").nth(2);
  await third.getByLabel("Name").fill("prod");
  await third.getByLabel("Clusters (label selector)").fill("environment=prod");
  await third.getByLabel("Before the stage starts").check();
  await page.getByRole("button", { name: "Move stage 3 up" }).click();
  await expect(page.locator("fieldset.stage").nth(1).getByLabel("Name")).toHaveValue("prod");
  await page.getByRole("button", { name: "Move stage 2 down" }).click();
  await expect(page.locator("fieldset.stage").nth(2).getByLabel("Name")).toHaveValue("prod");
  await expect(page.locator('#preview [data-stage="prod"]')).toContainText("no cluster");
  await expect(page.locator("#unsaved")).toBeVisible();
  await page.locator('details[data-action="save"] > summary').click();
  await expect(page.locator("#save-consequence")).toContainText("Replaces the stages of ClusterStagedUpdateStrategy st-strategy on the hub (3 stages now)");
  await page.getByRole("button", { name: "Save the strategy" }).click();
  await expect(page.locator("#save-result")).toContainText("Saved on the hub.");
  await expect(page.locator("#unsaved")).toHaveCount(0);
  const saved = JSON.parse(kubectl(["get", "clusterstagedupdatestrategy", "st-strategy", "-o", "json"]));
  expect(saved.spec.stages.map((s: any) => s.name)).toEqual(["staging", "canary", "prod"]);
  expect(saved.spec.stages[1].maxConcurrency).toBe(1);
  expect(saved.spec.stages[1].labelSelector).toEqual({ matchExpressions: [{ key: "environment", operator: "In", values: ["canary"] }] });
  expect(saved.spec.stages[2].beforeStageTasks).toEqual([{ type: "Approval" }]);
  expect(kubectl(["get", "events", "--field-selector", "involvedObject.name=st-strategy", "-o", "jsonpath={.items[*].reason}"])).toContain("UpdatedFromConsole");
  await page.screenshot({ path: join(ARTIFACTS, "strategy-saved.png"), fullPage: true });

  // A kubectl edit reaches the open page: the unedited form takes the hub's version.
  kubectl(["patch", "clusterstagedupdatestrategy", "st-strategy", "--type", "json", "-p", '[{"op":"replace","path":"/spec/stages/1/maxConcurrency","value":"50%"}]']);
  await expect(page.locator("fieldset.stage").nth(1).getByLabel("Max concurrency")).toHaveValue("50%");
  await expect(page.locator("#unsaved")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("new, clone and delete, each confirmed; a namespaced strategy opens by its namespace", async ({ page }) => {
  const errors = watchErrors(page);
  const stages = kubectl(["get", "clusterstagedupdatestrategy", "st-strategy", "-o", "jsonpath={.spec.stages[*].name}"]);
  const count = stages.split(" ").length;
  await page.goto("/strategies/st-strategy");
  await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
  await page.locator('details[data-action="clone"] > summary').click();
  await page.getByRole("link", { name: "Clone into a new strategy" }).click();
  await expect(page).toHaveURL(/\/strategies\/new\?from=st-strategy$/);
  await expect(page.getByLabel("Name", { exact: true }).first()).toHaveValue("st-strategy-copy");
  await expect(page.locator("fieldset.stage")).toHaveCount(count);
  await page.getByLabel("Name", { exact: true }).first().fill("st-clone");
  await page.locator('details[data-action="save"] > summary').click();
  await expect(page.locator("#save-consequence")).toContainText(`Creates ClusterStagedUpdateStrategy st-clone with ${count} stages`);
  await page.getByRole("button", { name: "Create the strategy" }).click();
  await expect(page).toHaveURL(/\/strategies\/st-clone$/);
  expect(kubectl(["get", "clusterstagedupdatestrategy", "st-clone", "-o", "jsonpath={.spec.stages[*].name}"])).toBe(stages);

  await page.locator('details[data-action="delete"] > summary').click();
  await expect(page.locator('details[data-action="delete"]')).toContainText("Runs already initialized keep the copy they took");
  await page.getByRole("button", { name: "Delete the strategy" }).click();
  await expect(page).toHaveURL(/\/strategies$/);
  await until("st-clone deleted", () => !kubectl(["get", "clusterstagedupdatestrategies", "-o", "name"]).includes("st-clone"));

  await page.goto("/strategies/new");
  await page.getByLabel("Name", { exact: true }).first().fill("team-new");
  await page.getByLabel("Namespace").fill("st-team");
  await expect(page.locator("#strategy-yaml")).toContainText("kind: StagedUpdateStrategy");
  await page.locator('details[data-action="save"] > summary').click();
  await page.getByRole("button", { name: "Create the strategy" }).click();
  await expect(page).toHaveURL(/\/strategies\/st-team\/team-new$/);
  expect(kubectl(["get", "stagedupdatestrategy", "team-new", "-n", "st-team", "-o", "jsonpath={.spec.stages[0].labelSelector}"])).toBe("{}");

  await page.goto("/strategies/st-team/team-strategy");
  await expect(page.locator("h1")).toHaveText("st-team/team-strategy");
  await expect(page.locator("fieldset.stage")).toHaveCount(2);
  expect(errors).toEqual([]);
});

test("without JavaScript: the list, the editor and its server-rendered preview read, and Save posts as a plain form", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: ADMIN_STATE });
  const page = await context.newPage();
  await page.goto("/strategies");
  await expect(page.locator('#strategies tr[data-strategy="st-team/team-strategy"] .stages')).toHaveText("2 stages: dev, then prod");
  await page.goto("/strategies/st-team/team-strategy");
  await expect(page.locator("fieldset.stage")).toHaveCount(2);
  await expect(page.locator("#strategy-yaml")).toContainText("kind: StagedUpdateStrategy");
  // The namespace has no placement: the preview plans over every member.
  await expect(previewOf(page, "prod")).toHaveText(["member3", "member1"]);
  await page.locator("fieldset.stage").nth(0).getByLabel("Max concurrency").fill("2");
  await page.locator('details[data-action="save"] > summary').click();
  await page.getByRole("button", { name: "Save the strategy" }).click();
  await expect(page).toHaveURL(/\/strategies\/st-team\/team-strategy$/);
  expect(kubectl(["get", "stagedupdatestrategy", "team-strategy", "-n", "st-team", "-o", "jsonpath={.spec.stages[0].maxConcurrency}"])).toBe("2");
  await context.close();
});

test("the Strategies pages pass axe (WCAG AA) and fit the screen in both themes, desktop and phone", async ({ page }) => {
  const problems: string[] = [];
  for (const theme of ["light", "dark"] as const) {
    for (const [label, width, height] of [["desktop", 1280, 900], ["phone", 390, 844]] as const) {
      await page.setViewportSize({ width, height });
      await page.emulateMedia({ colorScheme: theme });
      for (const [name, path] of [["strategies", "/strategies"], ["strategy", "/strategies/st-strategy"], ["new-strategy", "/strategies/new"]]) {
        await page.goto(path);
        await expect(page.locator("#live-status")).toHaveAttribute("data-status", "live");
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) problems.push(`${name} ${theme} ${label}: ${overflow}px wider than the screen`);
        for (const v of await axe(page)) problems.push(`${name} ${theme} ${label}: ${v}`);
        await page.screenshot({ path: join(ARTIFACTS, "pages", `${name}-${theme}-${label}.png`), fullPage: true });
      }
    }
  }
  expect(problems, problems.join("\n")).toEqual([]);
});
