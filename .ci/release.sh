#!/usr/bin/env bash
# Release build: the WASM through the size-optimised `wasm-release` profile and wasm-opt, the
# server with the normal release profile; then gzip and brotli copies of the assets, which the
# server sends to browsers that accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
cargo leptos build --release
node .ci/compress-assets.mjs target/site/pkg
