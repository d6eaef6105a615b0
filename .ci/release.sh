#!/usr/bin/env bash
# Release build: the WASM through the size-optimised `wasm-release` profile and wasm-opt, the
# server with the normal release profile; then gzip and brotli copies of the assets, which the
# server sends to browsers that accept them. `--cfg erase_components` (Leptos' type-erased views,
# what every debug build and test already uses) cuts the brotli WASM by about 15% (462,089 B to
# 393,553 B at d78a048); both halves get it, so server and browser render the same views.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
RUSTFLAGS="$DEV_RUSTFLAGS" cargo leptos build --release
node .ci/compress-assets.mjs target/site/pkg
