#!/usr/bin/env bash
# Fails when the browser bundle's dependency tree contains a crate that belongs on the server only.
set -euo pipefail
cd "$(dirname "$0")/.."
FORBIDDEN='^(tokio|hyper|hyper-util|kube|kube-client|kube-runtime|rusqlite|axum|tower-http|mio|leptos_axum|openidconnect|oauth2|rsa)$'
found=$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none --format '{p}' \
  | awk '{print $1}' | sort -u | grep -E "$FORBIDDEN" || true)
if [ -n "$found" ]; then
  echo "server-only crates in the WASM build: $found" >&2
  echo "make them optional and enable them with the app's \"ssr\" feature only" >&2
  exit 1
fi
echo "ok: none of tokio, hyper, kube, rusqlite, axum, openidconnect in the WASM dependency tree"
