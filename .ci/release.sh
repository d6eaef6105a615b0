#!/usr/bin/env bash
# Release build: the WASM through the size-optimised `wasm-release` profile and wasm-opt, the
# server with the normal release profile; then gzip and brotli copies of the assets, which the
# server sends to browsers that accept them, and their sizes: what the first page (the Overview)
# loads, and everything.
#
# - `--cfg erase_components` (Leptos' type-erased views) for both halves, through the workspace's
#   `always-erase-components`: the brotli WASM went from 462,089 B to 393,553 B at d78a048.
# - `--split` with `--cfg fleetdeck_split` for the WASM: the pages in app/src/ui/routes.rs become
#   chunks of their own that the browser fetches when it first shows them. The cfg goes to the
#   WASM build only (a target-specific RUSTFLAGS, which a plain RUSTFLAGS would override), so the
#   server build keeps its cache. The split also moves each page's static data into its chunk,
#   given room to lay it out (`SPLIT_DATA_ROOM` in app/src/ui/routes.rs; README "Browser bundle").
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg fleetdeck_split"
cargo leptos build --release --split
# The hashed asset names, where the server looks for them (beside the assets they name).
cp "$CARGO_TARGET_DIR/release/hash.txt" target/site/hash.txt
node .ci/compress-assets.mjs target/site/pkg
