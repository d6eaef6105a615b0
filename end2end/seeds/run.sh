#!/usr/bin/env bash
# Runs every seed replay and walkthrough (seed-*.sh and *-walkthrough.sh, or the ones named) in
# parallel — they mostly wait for the tutorials' TimedWaits — and fails if any fails, printing the
# log of each one that did.
#   end2end/seeds/run.sh                  # all of them
#   end2end/seeds/run.sh seed-002.sh      # one
# FLEETDECK_BIN picks the binary (default: $CARGO_TARGET_DIR/debug/fleetdeck); SEEDS_LOG_DIR
# keeps the logs (default: a temp dir, removed when everything passed).
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -gt 0 ]; then
  scripts=("$@")
else
  # The seeds, then the walkthroughs of behaviour the seeds do not show (overrides).
  scripts=(seed-*.sh *-walkthrough.sh)
fi
log_dir="${SEEDS_LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/fleetdeck-seeds.XXXXXX")}"
mkdir -p "$log_dir"

declare -A pids
# Interrupted: stop the replays (each stops its own fleetdeck on the way out).
stop_all() {
  local pid
  for pid in "${pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true # the replay itself, child of run_one
    kill "$pid" 2>/dev/null || true
  done
  exit 130
}
trap stop_all INT TERM
# Each replay notes its own duration (they are waited for in order, not as they finish).
run_one() {
  local s="$1" start=$SECONDS rc=0
  bash "$s" >"$log_dir/$s.log" 2>&1 || rc=$?
  echo $((SECONDS - start)) >"$log_dir/$s.seconds"
  return $rc
}
for s in "${scripts[@]}"; do
  run_one "$s" &
  pids[$s]=$!
  echo "started $s (log: $log_dir/$s.log)"
done

failed=()
for s in "${scripts[@]}"; do
  if wait "${pids[$s]}"; then
    echo "PASS $s ($(cat "$log_dir/$s.seconds")s)"
  else
    echo "FAIL $s ($(cat "$log_dir/$s.seconds" 2>/dev/null || echo ?)s)"
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
