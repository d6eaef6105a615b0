#!/usr/bin/env bash
# Installs everything fleetdeck needs to build (and, with --test, to test) on a fresh Debian
# machine of this project's kind. Idempotent: each step checks first and is skipped when done.
#
#   bash .ci/setup.sh          # Rust wasm target, cargo-leptos, wasm-bindgen-cli, Tailwind + wasm-opt
#   bash .ci/setup.sh --test   # the same, plus Chromium and Playwright for the browser tests
#
# Only crates.io, npm and Debian's archive are reachable here, so no tool may download its own
# binaries: cargo-leptos is built with `no_downloads` and finds Tailwind and wasm-opt in
# node_modules/.bin; Playwright drives Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
WITH_TEST=0
[ "${1:-}" = "--test" ] && WITH_TEST=1
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
REG_SRC() { ls -d "$HOME"/.cargo/registry/src/index.crates.io-*/"$1" 2>/dev/null | head -1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 1. Debian packages (tests only): Chromium for Playwright, jq for the seed replays.
if [ "$WITH_TEST" = 1 ] && { ! command -v chromium >/dev/null || ! command -v jq >/dev/null; }; then
  step "apt: chromium jq"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium jq >/dev/null
fi

# 2. The WASM target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup: wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 3. cargo-leptos 0.3.11 with no_downloads. Its shipped lock pins cargo-util-schemas 0.14.2, which
#    needs rustc 1.96; 0.14.1 works on 1.95. A --debug build installs in ~4.5 min instead of 13 and
#    is as fast in use.
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.11'; then
  step "cargo install cargo-leptos 0.3.11 (no_downloads)"
  cargo install cargo-leptos --version 0.3.11 --locked --features no_downloads 2>/dev/null || {
    cp -r "$(REG_SRC cargo-leptos-0.3.11)" "$WORK/cargo-leptos"
    (cd "$WORK/cargo-leptos" \
      && cargo update -p cargo-util-schemas --precise 0.14.1 \
      && cargo install --path . --locked --features no_downloads --debug)
  }
fi

# 4. wasm-bindgen-cli: must equal the wasm-bindgen crate in Cargo.lock (cargo-leptos never checks).
WB=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock")
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB"; then
  step "cargo install wasm-bindgen-cli $WB"
  cargo install wasm-bindgen-cli --version "$WB" --locked 2>/dev/null || {
    # 0.2.130's lock pins webpki-roots 1.0.11, which the registry no longer serves.
    cp -r "$(REG_SRC "wasm-bindgen-cli-$WB")" "$WORK/wbcli"
    (cd "$WORK/wbcli" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked)
  }
fi

# 5. npm build tools (Tailwind v4, binaryen's wasm-opt). `npm install`, not `npm ci`: the registry
#    here lacks the non-linux Tailwind oxide packages, so `npm ci` rejects any lockfile.
stamp() { sha256sum "$1" | cut -d' ' -f1; }
if [ "$(cat node_modules/.fleetdeck-stamp 2>/dev/null)" != "$(stamp package.json)" ]; then
  step "npm install (build tools)"
  npm install --no-audit --no-fund --loglevel=error
  stamp package.json > node_modules/.fleetdeck-stamp
fi
if [ "$WITH_TEST" = 1 ] && [ "$(cat end2end/node_modules/.fleetdeck-stamp 2>/dev/null)" != "$(stamp end2end/package-lock.json)" ]; then
  step "npm ci (Playwright, without its browser download)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  stamp end2end/package-lock.json > end2end/node_modules/.fleetdeck-stamp
fi
step "toolchain ready: $(cargo leptos --version), $(wasm-bindgen --version)"
