#!/usr/bin/env bash
# Measures an upgrade run (seed 004) of 1,000 simulated members in 10 stages of one group each
# (maxConcurrency 50), with the simulated upgrade time at zero: how long the run takes to be
# created and planned, and from start to Completed, as `fleetdeck updaterun` sees it.
#   FLEETDECK_BIN=target/release/fleetdeck end2end/bench/upgrade-run.sh [MEMBERS] [STAGES]
set -euo pipefail
BIN="${FLEETDECK_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/fleetdeck/target}/debug/fleetdeck}"
MEMBERS="${1:-1000}"
STAGES="${2:-10}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fleetdeck-measure.XXXXXX")"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cat >"$WORK/fleet.yaml" <<EOF2
lightweight: true
groups:
  - {count: $MEMBERS, name: "m{i:05}", updateGroup: "g{i%$STAGES}", upgradeTime: 0s}
EOF2
python3 -c "import json,sys; n=int(sys.argv[1]); json.dump({'stages':[{'name':f's{k}','groups':[{'name':f'g{k}','maxConcurrency':'50'}]} for k in range(n)]}, open(sys.argv[2],'w'))" "$STAGES" "$WORK/stages.json"
mkdir -p "$WORK/data"
"$BIN" serve --data-dir "$WORK/data" --addr 127.0.0.1:0 --hub-addr 127.0.0.1:0 \
  --fleet-config "$WORK/fleet.yaml" --in-memory --log warn >"$WORK/serve.log" 2>&1 &
PID=$!
export KUBECONFIG="$WORK/data/kubeconfig" FLEETDECK_DATA_DIR="$WORK/data"
for _ in $(seq 1 300); do
  n="$(kubectl get memberclusters --no-headers 2>/dev/null | wc -l || true)"
  [ "$n" = "$MEMBERS" ] && break
  sleep 1
done
[ "$n" = "$MEMBERS" ] || { echo "only $n of $MEMBERS members registered"; exit 1; }
t0=$(date +%s.%N)
"$BIN" updaterun create --name big --upgrade-type Full --kubernetes-version 1.26.0 --stages "$WORK/stages.json" >/dev/null
t1=$(date +%s.%N)
"$BIN" updaterun start --name big >/dev/null
"$BIN" updaterun wait --name big --interval 200ms >/dev/null
t2=$(date +%s.%N)
upgraded="$(kubectl get memberclusters -o jsonpath='{range .items[*]}{.status.fleetdeck\.dev/managedCluster.kubernetesVersion}{"\n"}{end}' | grep -c '^1.26.0$')"
printf 'members %s, stages %s: create+plan %.2fs, start→Completed %.2fs, %s members at 1.26.0, run status %s bytes\n' \
  "$MEMBERS" "$STAGES" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$upgraded" \
  "$(kubectl get updaterun big -o json | wc -c)"
