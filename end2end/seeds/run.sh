#!/usr/bin/env bash
# Runs every seed replay (seed-*.sh, or the ones named) in parallel — they mostly wait for the
# tutorials' TimedWaits — and fails if any fails, printing the log of each one that did.
#   end2end/seeds/run.sh                  # all of them
#   end2end/seeds/run.sh seed-002.sh      # one
# FLEETDECK_BIN picks the binary (default: $CARGO_TARGET_DIR/debug/fleetdeck); SEEDS_LOG_DIR
# keeps the logs (default: a temp dir, removed when everything passed).
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -gt 0 ]; then
  scripts=("$@")
else
  scripts=(seed-*.sh)
fi
log_dir="${SEEDS_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/fleetdeck-seeds.XXXXXX")}"
mkdir -p "$log_dir"

declare -A pids started
# Interrupted: stop the replays (each stops its own fleetdeck on the way out).
stop_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  exit 130
}
trap stop_all INT TERM
for s in "${scripts[@]}"; do
  bash "$s" >"$log_dir/$s.log" 2>&1 &
  pids[$s]=$!
  started[$s]=$SECONDS
  echo "started $s (log: $log_dir/$s.log)"
done

failed=()
for s in "${scripts[@]}"; do
  if wait "${pids[$s]}"; then
    echo "PASS $s ($((SECONDS - started[$s]))s)"
  else
    echo "FAIL $s ($((SECONDS - started[$s]))s)"
    failed+=("$s")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  for s in "${failed[@]}"; do
    printf '\n===== %s (log %s) =====\n' "$s" "$log_dir/$s.log"
    cat "$log_dir/$s.log"
  done
  printf '\n%d of %d seed replays failed: %s\n' "${#failed[@]}" "${#scripts[@]}" "${failed[*]}"
  exit 1
fi
echo "all ${#scripts[@]} seed replays passed in ${SECONDS}s"
[ -n "${SEEDS_LOG_DIR:-}" ] || rm -rf "$log_dir"
