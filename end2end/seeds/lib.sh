# Shared by the seed replays (seed-*.sh): start a throwaway fleetdeck, point kubectl at the
# kubeconfig it writes, and compare what kubectl prints with what the seed documents show.
# Sourced, not run. Every helper fails the script (set -e) with a message that says what differed.
# shellcheck shell=bash

set -euo pipefail

FLEETDECK_BIN="${FLEETDECK_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/fleetdeck/target-$(basename "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)")}/debug/fleetdeck}"
# How long a wait for convergence may take before the script gives up. A deadline only keeps a
# broken build from hanging CI; it is not a timing assertion (the tutorials' TimedWait is 1m).
WAIT_TIMEOUT="${SEEDS_WAIT_TIMEOUT:-300}"
# The real binary behind /usr/bin/kubectl (a dispatcher); kubectl() below wraps it.
KUBECTL_BIN="${KUBECTL_BIN:-$(command -v kubectl)}"

FD_PID=""
FD_WORK=""
_STEP=""

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# Names the step being replayed, so that a failure says where in the document it happened.
step() {
  _STEP="$*"
  printf '\n%s  == %s\n' "$(date -u +%H:%M:%S)" "$*"
}

fail() {
  printf '\nFAILED at step: %s\n%s\n' "${_STEP:-?}" "$*" >&2
  if [ -n "$FD_WORK" ] && [ -f "$FD_WORK/fleetdeck.log" ]; then
    printf '\n--- last 40 lines of the fleetdeck log ---\n' >&2
    tail -n 40 "$FD_WORK/fleetdeck.log" >&2
  fi
  exit 1
}

# kubectl as the seeds type it, with a discovery cache of this fleetdeck's own (a stale cache from
# another fleetdeck on the same port would confuse kubectl) and the kubeconfig fleetdeck wrote.
kubectl() {
  "$KUBECTL_BIN" --cache-dir "$FD_WORK/kube-cache" "$@"
}

stop_fleetdeck() {
  if [ -n "$FD_PID" ] && kill -0 "$FD_PID" 2>/dev/null; then
    kill -TERM "$FD_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$FD_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$FD_PID" 2>/dev/null || true
    wait "$FD_PID" 2>/dev/null || true
  fi
  FD_PID=""
  if [ -n "$FD_WORK" ]; then
    if [ -n "${SEEDS_KEEP:-}" ]; then
      log "kept $FD_WORK (SEEDS_KEEP is set)"
    else
      rm -rf "$FD_WORK"
    fi
  fi
  FD_WORK=""
}
trap stop_fleetdeck EXIT
# A signal ends the script through its EXIT trap, so fleetdeck never outlives it.
trap 'exit 143' TERM INT

# Starts a fresh fleetdeck (temp data dir, free ports, the seeds' demo fleet) and waits until the
# hub answers and the three member clusters are registered. Extra arguments go to `serve`.
start_fleetdeck() {
  stop_fleetdeck
  [ -x "$FLEETDECK_BIN" ] || fail "no fleetdeck binary at $FLEETDECK_BIN (cargo build -p server --bin fleetdeck, or set FLEETDECK_BIN)"
  FD_WORK="$(mktemp -d "${TMPDIR:-/tmp}/fleetdeck-seed.XXXXXX")"
  mkdir -p "$FD_WORK/kube-cache" "$FD_WORK/data"
  "$FLEETDECK_BIN" serve --data-dir "$FD_WORK/data" --addr 127.0.0.1:0 --hub-addr 127.0.0.1:0 \
    --log "${SEEDS_FLEETDECK_LOG:-info}" "$@" >"$FD_WORK/fleetdeck.log" 2>&1 &
  FD_PID=$!
  export KUBECONFIG="$FD_WORK/data/kubeconfig"
  local deadline=$((SECONDS + 60))
  until grep -qs 'fleetdeck is running' "$FD_WORK/fleetdeck.log"; do
    kill -0 "$FD_PID" 2>/dev/null || fail "fleetdeck exited during startup"
    [ $SECONDS -lt $deadline ] || fail "fleetdeck did not start within 60s"
    sleep 0.2
  done
  # Work in a scratch directory, as a user would (the seeds write approval.json into the cwd).
  cd "$FD_WORK"
  wait_until "the three member clusters are registered" members_registered
  log "fleetdeck $FD_PID is up; KUBECONFIG=$KUBECONFIG"
}

members_registered() {
  local names
  names="$(kubectl get memberclusters -o jsonpath='{.items[*].metadata.name}')" || return 1
  echo "memberclusters: $names"
  [ "$names" = "member1 member2 member3" ]
}

# wait_until DESCRIPTION COMMAND...: runs COMMAND every second until it succeeds. On timeout,
# prints COMMAND's last output. The deadline guards against hanging, nothing else.
wait_until() {
  local what="$1"
  shift
  local deadline=$((SECONDS + WAIT_TIMEOUT)) out
  log "waiting until $what"
  while true; do
    if out="$("$@" 2>&1)"; then
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      fail "gave up waiting (${WAIT_TIMEOUT}s) until $what; last output of '$*':
$out"
    fi
    sleep 1
  done
}

# Expects two strings to be equal.
expect_eq() {
  local what="$1" want="$2" got="$3"
  if [ "$want" != "$got" ]; then
    fail "$what:
  want: $want
  got:  $got"
  fi
  log "ok: $what = ${want:0:160}"
}

# Expects TEXT to contain NEEDLE.
expect_contains() {
  local what="$1" needle="$2" text="$3"
  case "$text" in
  *"$needle"*) log "ok: $what" ;;
  *) fail "$what: expected to find
  $needle
in:
$text" ;;
  esac
}

# Cells of a kubectl table, one row per line, cells joined by '|'. Columns are cut at the offsets
# of the header words (kubectl aligns every cell under its header), so empty cells survive. Times
# (AGE and friends) become '*', since they can never match a document.
table_cells() {
  awk '
    NR == 1 {
      n = 0; i = 1
      while (match(substr($0, i), /[^ ]+/)) {
        n++; pos[n] = i + RSTART - 1; name[n] = substr($0, pos[n], RLENGTH); i = pos[n] + RLENGTH
      }
      next
    }
    {
      row = ""
      for (c = 1; c <= n; c++) {
        e = (c < n) ? pos[c + 1] : length($0) + 1
        cell = substr($0, pos[c], e - pos[c]); gsub(/^ +| +$/, "", cell)
        if (name[c] == "AGE" || name[c] == "LAST-UPDATED" || name[c] == "MEMBER-AGENT-LAST-SEEN") cell = "*"
        row = row (c > 1 ? "|" : "") cell
      }
      print row
    }'
}

# The first line of a kubectl table, its column names separated by single spaces. (No `| head`:
# under pipefail, head closing the pipe early can fail the pipeline at random.)
header_of() {
  local first="${1%%$'\n'*}"
  printf '%s' "$first" | tr -s ' ' | sed 's/ $//'
}

# expect_table OUTPUT HEADER [ROW...]: the header must be exactly HEADER (column names separated
# by single spaces), and the rows exactly ROW... in order, cells separated by '|', any value in the
# AGE cell. An empty cell is an empty string between bars.
expect_table() {
  local out="$1" header="$2"
  shift 2
  local got_header want_rows got_rows
  got_header="$(header_of "$out")"
  if [ "$got_header" != "$header" ]; then
    fail "column headers differ:
  want: $header
  got:  $got_header
full output:
$out"
  fi
  got_rows="$(printf '%s\n' "$out" | table_cells)"
  want_rows="$(printf '%s\n' "$@" | awk -v h="$header" '
    BEGIN { n = split(h, name, " ") }
    { m = split($0, cell, "|"); row = ""
      for (c = 1; c <= m; c++) { v = cell[c]; if (name[c] == "AGE" || name[c] == "LAST-UPDATED" || name[c] == "MEMBER-AGENT-LAST-SEEN") v = "*"; row = row (c > 1 ? "|" : "") v }
      print row }')"
  if [ "$got_rows" != "$want_rows" ]; then
    fail "table rows differ (cells separated by |, times masked as *):
want:
$want_rows
got:
$got_rows
full output:
$out"
  fi
  log "ok: table $(printf '%s' "$header" | cut -c1-60)… with $# row(s)"
}

# A status field by jsonpath: jp RESOURCE-ARGS JSONPATH (RESOURCE-ARGS is split on spaces, e.g.
# "csur example-run" or "sur web-app-rollout-v1-20 -n my-app-namespace").
jp() {
  local -a get_args
  read -ra get_args <<<"$1"
  kubectl get "${get_args[@]}" -o "jsonpath=$2"
}

expect_jp() {
  local res="$1" path="$2" want="$3" got
  got="$(jp "$res" "$path")" || fail "kubectl get $res failed"
  expect_eq "$res $path" "$want" "$got"
}

# jp_is RESOURCE-ARGS JSONPATH WANT: for wait_until.
jp_is() {
  local got
  got="$(jp "$1" "$2")" || return 1
  echo "$1 $2 = '$got' (waiting for '$3')"
  [ "$got" = "$3" ]
}

# expect_condition RESOURCE-ARGS OWNER TYPE STATUS REASON [MESSAGE]: OWNER is the jsonpath of the
# object holding `conditions` (".status", ".status.stagesStatus[1]", ...). The condition's
# observedGeneration must equal the owner object's metadata.generation (spec §9.2: re-stamped).
expect_condition() {
  local res="$1" owner="$2" type="$3" status="$4" reason="$5" message="${6-}"
  local sel="${owner}.conditions[?(@.type==\"$type\")]"
  local got gen
  got="$(jp "$res" "{${sel}.status}|{${sel}.reason}|{${sel}.observedGeneration}")"
  gen="$(jp "$res" '{.metadata.generation}')"
  expect_eq "$res $owner $type condition (status|reason|observedGeneration)" "$status|$reason|$gen" "$got"
  if [ -n "$message" ]; then
    expect_jp "$res" "{${sel}.message}" "$message"
  fi
}

# condition_is RESOURCE-ARGS OWNER TYPE STATUS [REASON]: for wait_until.
condition_is() {
  local res="$1" owner="$2" type="$3" status="$4" reason="${5-}"
  local sel="${owner}.conditions[?(@.type==\"$type\")]" got
  got="$(jp "$res" "{${sel}.status}|{${sel}.reason}")" || return 1
  echo "$res $owner $type = '$got' (waiting for '$status|$reason')"
  if [ -n "$reason" ]; then [ "$got" = "$status|$reason" ]; else [ "${got%%|*}" = "$status" ]; fi
}

# What a kubectl command printed, failing the step if it failed.
run_ok() {
  local out
  if ! out="$("$@" 2>&1)"; then
    fail "command failed: $*
$out"
  fi
  printf '%s\n' "$out"
}

# A kubectl command that must fail; prints its error output.
run_fails() {
  local out
  if out="$("$@" 2>&1)"; then
    fail "command was expected to fail but succeeded: $*
$out"
  fi
  printf '%s\n' "$out"
}

MEMBERS=(member1 member2 member3)

# A field of an object on one member cluster (kubectl --context memberN), `<absent>` when the
# object is not there.
member_value() {
  local ctx="$1" path="$2" getargs="$3" out
  local -a args
  read -ra args <<<"$getargs"
  if out="$(kubectl --context "$ctx" get "${args[@]}" -o "jsonpath=$path" 2>&1)"; then
    printf '%s' "$out"
  elif [[ "$out" == *"not found"* ]]; then
    printf '<absent>'
  else
    printf 'error: %s' "$out"
  fi
}

# members_are GET-ARGS JSONPATH WANT-MEMBER1 WANT-MEMBER2 WANT-MEMBER3: for wait_until.
members_are() {
  local getargs="$1" path="$2"
  shift 2
  local i got want all=0
  for i in 0 1 2; do
    got="$(member_value "${MEMBERS[$i]}" "$path" "$getargs")"
    want="$1"
    shift
    echo "${MEMBERS[$i]}: $getargs $path = '$got' (want '$want')"
    [ "$got" = "$want" ] || all=1
  done
  return $all
}

# The ConfigMap value on member1, member2, member3 (the seeds' test-cm), waited for: the member
# agent applies a binding's snapshot moments after the run writes the binding.
expect_member_cms() {
  wait_until "test-cm key on member1..3 is $1 $2 $3" \
    members_are "cm test-cm -n test-namespace" '{.data.key}' "$1" "$2" "$3"
  log "ok: test-cm on member1..3 = $1 $2 $3"
}

# The web-app Deployment image on member1..3.
expect_member_images() {
  wait_until "web-app image on member1..3 is $1 $2 $3" \
    members_are "deployment web-app -n my-app-namespace" '{.spec.template.spec.containers[0].image}' "$1" "$2" "$3"
  log "ok: web-app image on member1..3 = $1 $2 $3"
}

# Writes an EDITOR for `kubectl edit` that replaces FROM with TO in the file it is given.
editor_replacing() {
  local from="$1" to="$2" script="$FD_WORK/editor-$RANDOM.sh"
  cat >"$script" <<EOF
#!/bin/sh
sed -i 's|$from|$to|' "\$1"
EOF
  chmod +x "$script"
  printf '%s' "$script"
}

# Creates a run that only initializes, to capture the placement's current resources as the next
# resource snapshot, then deletes it (spec §10.3: a run without resourceSnapshotIndex gets or
# creates the latest snapshot at initialization; deleting a run leaves snapshots alone, §9.10).
# The seeds 000/001 expect snapshots to appear on their own for External placements; since
# 2026-03-03 only a run creates them (spec §14 row 9). This is the current way to get them.
capture_snapshot() {
  local kind="$1" namespace="$2" placement="$3" strategy="$4" want_index="$5"
  local name="capture-$want_index" ns_meta="" ns_args=""
  local -a ns_flag=()
  if [ -n "$namespace" ]; then
    ns_meta="  namespace: $namespace"
    ns_args="-n $namespace"
    ns_flag=(-n "$namespace")
  fi
  run_ok kubectl apply -f - <<EOF >/dev/null
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: $kind
metadata:
  name: $name
$ns_meta
spec:
  placementName: $placement
  stagedRolloutStrategyName: $strategy
  state: Initialize
EOF
  local short
  short="$(printf '%s' "$kind" | tr '[:upper:]' '[:lower:]')"
  wait_until "$name is initialized" condition_is "$short $name $ns_args" .status Initialized True UpdateRunInitializedSuccessfully
  expect_jp "$short $name $ns_args" '{.status.resourceSnapshotIndexUsed}' "$want_index"
  run_ok kubectl delete "$short" "$name" "${ns_flag[@]}" >/dev/null
}

# shellcheck disable=SC2016 # jq's $g, not the shell's
# jq definitions for comparing run status without times and messages (what spec §9.11's
# "status shape" compares): conditions as sorted "Type=Status/Reason" strings, stages with their
# clusters in stored order and their tasks.
JQ_DEFS='
def conds: [(.conditions // [])[] | "\(.type)=\(.status)/\(.reason)"] | sort;
def task: {task: (.type + (if .approvalRequestName then " " + .approvalRequestName else "" end)), conds: conds};
def stage: {stage: .stageName, conds: conds,
  clusters: [(.clusters // [])[] | {cluster: .clusterName, conds: conds}],
  before: [(.beforeStageTaskStatus // [])[] | task], after: [(.afterStageTaskStatus // [])[] | task]};
def progress: {conds: (.status | conds), stages: [(.status.stagesStatus // [])[] | stage],
  deletion: (.status.deletionStageStatus | stage)};
def stamped: .metadata.generation as $g
  | [.status | .. | objects | select(has("conditions")) | .conditions[] | .observedGeneration]
  | all(. == $g);
'

# expect_json RESOURCE-ARGS JQ-FILTER WANT-JSON: the object (kubectl get -o json) through the
# filter must equal WANT-JSON (both normalised with jq -S).
expect_json() {
  local res="$1" filter="$2" want="$3" json got wantn
  local -a args
  read -ra args <<<"$res"
  json="$(kubectl get "${args[@]}" -o json)" || fail "kubectl get $res failed"
  got="$(printf '%s' "$json" | jq -S "$JQ_DEFS $filter")" || fail "jq filter failed: $filter"
  wantn="$(printf '%s' "$want" | jq -S .)" || fail "bad expected JSON: $want"
  if [ "$got" != "$wantn" ]; then
    fail "$res | $filter differs
want:
$wantn
got:
$got
diff (want → got):
$(diff <(printf '%s\n' "$wantn") <(printf '%s\n' "$got") || true)"
  fi
  log "ok: $res | $(printf '%s' "$filter" | tr -s ' \n' ' ' | cut -c1-80)"
}

# Every condition in a run's status carries the run's current generation (spec §9.2 step 2).
expect_stamped() {
  expect_json "$1" stamped true
}

# none_left GET-ARGS...: no object of that kind is left (for wait_until).
none_left() {
  local out
  out="$(kubectl get "$@" -o name)" || return 1
  echo "still there: $out"
  [ -z "$out" ]
}
