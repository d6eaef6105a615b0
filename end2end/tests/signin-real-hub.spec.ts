import { test, expect, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, createSign, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, IncomingMessage, Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// Signing in with OpenID Connect in a real browser: an identity provider started here (discovery,
// JWKS, an authorize page that grants at once, a token endpoint checking PKCE, RS256 ID tokens)
// on `localhost`, and a dashboard-only fleetdeck started with --oidc-* on `127.0.0.1`, on a real
// hub (the one global-setup started, reached over HTTPS through its kubeconfig) — two sites, so
// the provider's redirect back is a cross-site navigation on which the browser withholds the
// SameSite=Strict session cookie, as it would with a real provider. The person must still land
// on the page they asked for, signed in as the token's user with the group's RBAC. And the other
// way onto a real hub: a pasted Kubernetes bearer token.

const SHOTS = join(__dirname, "..", "screenshots");
mkdirSync(SHOTS, { recursive: true });

type Mode = "good" | "wrong-audience";

interface Idp {
  server: Server;
  issuer: string;
  mode: Mode;
}

const b64u = (s: string | Buffer) => Buffer.from(s).toString("base64url");

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function startIdp(): Promise<Idp> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const grants = new Map<string, { clientId: string; redirectUri: string; nonce: string; challenge: string }>();
  const idp: Idp = { server: undefined as unknown as Server, issuer: "", mode: "good" };
  const json = (res: import("node:http").ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value));
  };
  idp.server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? "/", idp.issuer);
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(res, 200, {
        issuer: idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        jwks_uri: `${idp.issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (url.pathname === "/jwks") return json(res, 200, { keys: [jwk] });
    if (url.pathname === "/authorize") {
      const q = url.searchParams;
      if (q.get("response_type") !== "code" || q.get("code_challenge_method") !== "S256") {
        res.writeHead(400);
        return res.end("code flow with S256 PKCE only");
      }
      const code = randomBytes(16).toString("hex");
      grants.set(code, {
        clientId: q.get("client_id") ?? "",
        redirectUri: q.get("redirect_uri") ?? "",
        nonce: q.get("nonce") ?? "",
        challenge: q.get("code_challenge") ?? "",
      });
      const back = new URL(q.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state") ?? "");
      // The provider's own page, where the person confirms: the way back then starts on the
      // provider's site, as with a real provider (an instant redirect would leave the navigation
      // started by the dashboard's page, and the browser would treat it as same-site).
      const href = back.toString().replace(/&/g, "&amp;").replace(/"/g, "&quot;");
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(`<!doctype html><title>Test IdP</title><a href="${href}">Continue as vera@example.com</a>`);
    }
    if (url.pathname === "/token" && req.method === "POST") {
      const form = new URLSearchParams(await body(req));
      const grant = grants.get(form.get("code") ?? "");
      grants.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier") ?? "";
      if (!grant || createHash("sha256").update(verifier).digest("base64url") !== grant.challenge || form.get("redirect_uri") !== grant.redirectUri) {
        return json(res, 400, { error: "invalid_grant" });
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: idp.issuer,
        aud: idp.mode === "wrong-audience" ? "another-app" : grant.clientId,
        sub: "vera-1",
        email: "vera@example.com",
        email_verified: true,
        groups: ["fleet-viewers"],
        nonce: grant.nonce,
        iat: now,
        exp: now + 300,
      };
      const signed = `${b64u(JSON.stringify({ alg: "RS256", kid: "k1", typ: "JWT" }))}.${b64u(JSON.stringify(claims))}`;
      const signature = createSign("RSA-SHA256").update(signed).sign(privateKey).toString("base64url");
      return json(res, 200, { access_token: "opaque", token_type: "Bearer", expires_in: 300, id_token: `${signed}.${signature}` });
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((done) => idp.server.listen(0, "127.0.0.1", done));
  const address = idp.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  // `localhost`, not 127.0.0.1: another site than the dashboard's.
  idp.issuer = `http://localhost:${port}`;
  return idp;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

async function waitFor(url: string, ms: number) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let idp: Idp;
let fleetdeck: ChildProcess;
let dataDir: string;
let base: string;

test.beforeAll(async () => {
  const bin = process.env.FLEETDECK_BIN;
  const hub = process.env.FLEETDECK_KUBECONFIG;
  if (!bin || !hub) throw new Error("FLEETDECK_BIN and FLEETDECK_KUBECONFIG must be set (global-setup.ts)");
  const siteRoot = process.env.FLEETDECK_SITE_ROOT ?? resolve(__dirname, "..", "..", "target", "site");
  idp = await startIdp();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(join(tmpdir(), "fleetdeck-oidc-e2e-"));
  fleetdeck = spawn(
    bin,
    [
      "serve", "--addr", `127.0.0.1:${port}`, "--kubeconfig", hub, "--engine", "off", "--data-dir", dataDir,
      "--site-root", siteRoot, "--log", "info,tower_http=warn",
      "--oidc-issuer", idp.issuer, "--oidc-client-id", "fleetdeck",
      "--oidc-username-prefix", "oidc:", "--oidc-groups-prefix", "oidc:", "--oidc-display-name", "Test IdP",
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  await waitFor(`${base}/healthz`, 60_000);
  // On the hub, the provider's group `fleet-viewers` may view the fleet.
  execFileSync("kubectl", ["--kubeconfig", hub, "apply", "-f", "-"], {
    encoding: "utf8",
    timeout: 30_000,
    input: `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: oidc-fleet-viewers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: fleetdeck-viewer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: "oidc:fleet-viewers"}]
`,
  });
});

test.afterAll(async () => {
  if (fleetdeck) {
    const stopped = new Promise((done) => fleetdeck.once("exit", done));
    fleetdeck.kill("SIGTERM");
    const timer = setTimeout(() => fleetdeck.kill("SIGKILL"), 5_000);
    await stopped;
    clearTimeout(timer);
  }
  idp?.server.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("a person signed in by the identity provider lands on the page they asked for, as themselves", async ({ browser }) => {
  idp.mode = "good";
  const context = await browser.newContext({ baseURL: base, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/approvals");
  await expect(page).toHaveURL(/\/signin\?next=%2Fapprovals$/);
  await page.screenshot({ path: join(SHOTS, "signin-oidc.png"), fullPage: true });
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await page.getByRole("link", { name: "Continue as vera@example.com" }).click();
  await expect(page).toHaveURL(`${base}/approvals`);
  await expect(page.locator("#acting-as")).toContainText("oidc:vera@example.com");
  // The flow's cookie is used up; the session's is Strict and HttpOnly.
  const cookies = await context.cookies(base);
  expect(cookies.find((c) => c.name === "fleetdeck_oidc")).toBeUndefined();
  const session = cookies.find((c) => c.name === "fleetdeck_session");
  expect(session?.sameSite).toBe("Strict");
  expect(session?.httpOnly).toBe(true);
  await context.close();
});

test("a token for another application is refused in words", async ({ browser }) => {
  idp.mode = "wrong-audience";
  const context = await browser.newContext({ baseURL: base, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/signin?next=%2Fruns");
  await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
  await page.getByRole("link", { name: "Continue as vera@example.com" }).click();
  await expect(page).toHaveURL(/\/signin\?error=oidc-audience&next=%2Fruns$/);
  await expect(page.getByRole("alert")).toContainText("issued for another application, not this fleetdeck. Ask an administrator to check --oidc-client-id.");
  await page.screenshot({ path: join(SHOTS, "signin-oidc-refused.png"), fullPage: true });
  expect((await context.cookies(base)).find((c) => c.name === "fleetdeck_session")).toBeUndefined();
  // The page with everything on it (refusal, provider button, password and token forms) passes
  // axe (WCAG 2 AA) in both themes.
  for (const theme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await page.evaluate((t) => {
      localStorage.setItem("fleetdeck-theme", t);
      document.documentElement.classList.toggle("dark", t === "dark");
    }, theme);
    expect(await axe(page), theme).toEqual([]);
  }
  await context.close();
});

async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  return page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.map((v: any) => `${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n: any) => n.target.join(" ")).join(", ")}`);
  });
}

test("a person pastes their Kubernetes token and acts as its owner", async ({ browser }) => {
  const bin = process.env.FLEETDECK_BIN ?? "";
  const hubData = process.env.FLEETDECK_DATA_DIR ?? "";
  // A viewer of the hub with a kubectl token (from the e2e hub's users file; any token the hub
  // accepts would do).
  const out = execFileSync(bin, ["user", "add", "tomas", "--role", "viewer", "--data-dir", hubData], { encoding: "utf8", timeout: 30_000 });
  const token = out.match(/kubectl token \(shown only now\): (\S+)/)?.[1];
  if (!token) throw new Error(`no kubectl token in: ${out}`);
  const context = await browser.newContext({ baseURL: base, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/approvals");
  await page.getByLabel("Or sign in with your Kubernetes token").fill("not a token of this hub");
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await expect(page.getByRole("alert")).toContainText("The hub does not accept this token");
  await page.getByLabel("Or sign in with your Kubernetes token").fill(token);
  await page.getByRole("button", { name: "Sign in with token" }).click();
  await expect(page).toHaveURL(`${base}/approvals`);
  await expect(page.locator("#acting-as")).toContainText("tomas");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin\?signed_out=1$/);
  await context.close();
});
