#!/usr/bin/env bash
# Builds fleetdeck (release) and runs it: the dashboard on http://127.0.0.1:3000 by default.
# Extra arguments go to `fleetdeck serve` (e.g. --addr 127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
bash .ci/setup.sh
bash .ci/release.sh
exec "$CARGO_TARGET_DIR/release/fleetdeck" serve --site-root target/site "$@"
