import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

// Signing in to the fleetdeck under test the way a person does: a one-time link (the admin's from
// the data directory, others' from `fleetdeck user add`) sets a password and starts a session.

/// Where global-setup keeps the admin's signed-in browser state; every test starts from it.
export const ADMIN_STATE = join(__dirname, "..", "..", ".auth", "admin.json");
export const PASSWORD = "correct horse battery staple";

function base(): string {
  const url = process.env.BASE_URL;
  if (!url) throw new Error("BASE_URL is not set: run the tests through global-setup.ts");
  return url;
}

/// `fleetdeck user add` against the fleetdeck under test: the person's one-time sign-in link.
export function addUser(name: string, role: string, namespace?: string): string {
  const bin = process.env.FLEETDECK_BIN;
  const dataDir = process.env.FLEETDECK_DATA_DIR;
  if (!bin || !dataDir) throw new Error("FLEETDECK_BIN and FLEETDECK_DATA_DIR must be set (global-setup.ts)");
  const args = ["user", "add", name, "--role", role, "--data-dir", dataDir, ...(namespace ? ["--namespace", namespace] : [])];
  const out = execFileSync(bin, args, { encoding: "utf8", timeout: 30_000 });
  const link = out.match(/sign-in link[^:]*: (\S+)/)?.[1];
  if (!link) throw new Error(`no sign-in link in: ${out}`);
  return link;
}

/// Opens a one-time link's form post: sets the password, answers the session cookie's value.
export async function setPassword(link: string, password = PASSWORD): Promise<string> {
  const token = new URL(link).searchParams.get("token") ?? "";
  const res = await fetch(`${base()}/auth/setup`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: base() },
    body: new URLSearchParams({ token, password, confirm: password }).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("fleetdeck_session="));
  if (res.status !== 303 || !cookie) throw new Error(`setting the password failed: ${res.status} ${res.headers.get("location")}`);
  return cookie.split(";")[0].slice("fleetdeck_session=".length);
}

/// A Playwright storage state holding a session cookie.
export function writeState(path: string, session: string) {
  const host = new URL(base()).hostname;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(
    path,
    JSON.stringify({
      cookies: [{ name: "fleetdeck_session", value: session, domain: host, path: "/", expires: -1, httpOnly: true, secure: false, sameSite: "Strict" }],
      origins: [],
    }),
  );
}
