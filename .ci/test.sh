#!/usr/bin/env bash
# Sets up the toolchain and runs every check and test: formatting, clippy for the server (ssr)
# and browser (hydrate) builds, the unit and integration tests, a guard that keeps server-only
# crates out of the WASM bundle, the seed tutorials replayed with kubectl and the browser tests
# against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# A hang guard, not a speed check: a test binary that stops making progress (a starved runtime
# never fires its own timeouts) fails the run with its name instead of eating CI's whole limit.
# Compilation happens before, unguarded, so only the running of tests is bounded.
guard() {
  local minutes=$1; shift
  local rc=0
  timeout --kill-after=30s "${minutes}m" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "!! no end after ${minutes} minutes (a hung test; the last 'has been running' line names it): $*" >&2
  fi
  return "$rc"
}

bash .ci/setup.sh --test

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy: server build (ssr)"
RUSTFLAGS="$DEV_RUSTFLAGS" cargo clippy -p fleet -p app -p server -p hub --all-targets -- -D warnings
step "clippy: browser build (hydrate)"
RUSTFLAGS="$DEV_RUSTFLAGS" cargo clippy -p fleet --all-targets -- -D warnings
RUSTFLAGS="$DEV_RUSTFLAGS" cargo clippy -p app --all-targets --no-default-features --features hydrate -- -D warnings
RUSTFLAGS="$DEV_RUSTFLAGS" cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "WASM bundle stays free of server-only crates"
bash .ci/check-wasm-deps.sh

step "unit and integration tests"
RUSTFLAGS="$DEV_RUSTFLAGS" cargo test -p fleet -p app -p server -p hub --no-run
RUSTFLAGS="$DEV_RUSTFLAGS" guard 25 cargo test -p fleet -p app -p server -p hub

step "every manifest of the seed documents round-trips (the count is printed)"
RUSTFLAGS="$DEV_RUSTFLAGS" guard 10 cargo test -p app -p server -p hub --test seed_round_trip -- --show-output

step "kube-rs conformance suite again, over TCP"
RUSTFLAGS="$DEV_RUSTFLAGS" HUB_TRANSPORT=tcp guard 10 cargo test -p hub --test kube_conformance

step "build the dashboard (cargo leptos build)"
cargo leptos build
# The build cache is shared by every checkout, and any of them building the server replaces
# target/debug/fleetdeck: test a private copy of this checkout's binary.
BIN_DIR="$(mktemp -d)"
trap 'rm -rf "$BIN_DIR"' EXIT
cp "$CARGO_TARGET_DIR/debug/fleetdeck" "$BIN_DIR/fleetdeck"

step "seed tutorials replayed with kubectl against the real binary (end2end/seeds; a few minutes)"
FLEETDECK_BIN="$BIN_DIR/fleetdeck" guard 20 bash end2end/seeds/run.sh

step "browser tests (Playwright, Debian Chromium)"
(cd end2end && FLEETDECK_BIN="$BIN_DIR/fleetdeck" FLEETDECK_SITE_ROOT="$PWD/../target/site" guard 15 npx playwright test)
