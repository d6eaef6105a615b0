#!/usr/bin/env bash
# Seed 004 (shared/seeds/004_*.txt, "Update Kubernetes and node images across multiple member
# clusters" with Azure Kubernetes Fleet Manager) replayed with the fleetdeck CLI — `fleetdeck
# updaterun …` / `fleetdeck updatestrategy …` for `az fleet updaterun …` / `az fleet
# updatestrategy …` — and kubectl against a fresh fleetdeck. The seed's example-stages.json names
# six groups while its text speaks of five members; since every named group must match a member,
# the fleet has six, one per group (README "Upgrade runs (seed 004)"). The members start at
# Kubernetes 1.25.6 with one Ubuntu pool at 202401.09.0, three in eastus and three in westeurope
# (which lags one node image behind in the shipped release catalogue), and upgrade in 2 s.
source "$(dirname "$0")/lib.sh"

FLEET_CONFIG="$(mktemp "${TMPDIR:-/tmp}/seed-004-fleet.XXXXXX.yaml")"
cat >"$FLEET_CONFIG" <<'EOF'
lightweight: true
groups:
  - {count: 3, start: 1, name: "member{i}", region: eastus, upgradeTime: 2s}
  - {count: 3, start: 4, name: "member{i}", region: westeurope, upgradeTime: 2s}
EOF

# This fleet has six members (lib.sh's check expects the demo fleet's three).
members_registered() {
  local names
  names="$(kubectl get memberclusters -o jsonpath='{.items[*].metadata.name}')" || return 1
  echo "memberclusters: $names"
  [ "$names" = "member1 member2 member3 member4 member5 member6" ]
}

start_fleetdeck --fleet-config "$FLEET_CONFIG"
rm -f "$FLEET_CONFIG"
export FLEETDECK_DATA_DIR="$FD_WORK/data"
fd() { "$FLEETDECK_BIN" "$@"; }

version_of() { jp "membercluster $1" '{.status.fleetdeck\.dev/managedCluster.kubernetesVersion}'; }
image_of() { jp "membercluster $1" '{.status.fleetdeck\.dev/managedCluster.nodePools[0].nodeImageVersion}'; }
run_state() { jp "updaterun $1" '{.status.status.state}'; }
UBUNTU=AKSUbuntu-2204gen2containerd

step "The fleet: member clusters with their Kubernetes versions and node images"
for m in member1 member4; do
  expect_eq "$m Kubernetes version" "1.25.6" "$(version_of "$m")"
  expect_eq "$m node image" "$UBUNTU-202401.09.0" "$(image_of "$m")"
done

# ---------------------------------------------------------------------------------------------
step "Update all clusters one by one: run-1 (Full), run-2 (ControlPlaneOnly), run-3 (NodeImageOnly)"
run_ok fd updaterun create --name run-1 --upgrade-type Full --kubernetes-version 1.26.0 >/dev/null
run_ok fd updaterun create --name run-2 --upgrade-type ControlPlaneOnly --kubernetes-version 1.26.0 >/dev/null
run_ok fd updaterun create --name run-3 --upgrade-type NodeImageOnly >/dev/null
expect_table "$(run_ok fd updaterun list -o table)" \
  "Name State UpgradeType KubernetesVersion NodeImageSelection UpdateStrategy" \
  "run-1|NotStarted|Full|1.26.0|Latest|" \
  "run-2|NotStarted|ControlPlaneOnly|1.26.0|Latest|" \
  "run-3|NotStarted|NodeImageOnly||Latest|"
out="$(run_fails fd updaterun create --name run-x --upgrade-type Full)"
expect_contains "Full needs a version" "Please set kubernetes version when upgrade type is 'Full'/'ControlPlaneOnly'" "$out"
# kubectl sees the same objects, with their printer columns.
expect_table "$(kubectl get updaterun run-2)" \
  "NAME STATE UPGRADE-TYPE KUBERNETES-VERSION AGE" \
  "run-2|NotStarted|ControlPlaneOnly|1.26.0|*"
expect_jp "updaterun run-1" '{.status.stages[0].name}/{.status.stages[0].groups[0].name}' "default/default"

step "Start run-2: every control plane to 1.26.0, one member at a time"
run_ok fd updaterun start --name run-2 >/dev/null
expect_eq "run-2 after start" "Running" "$(run_state run-2)"
out="$(run_ok fd updaterun wait --name run-2)"
expect_contains "wait shows the members in turn" "default/default/member6: Completed" "$out"
expect_eq "run-2" "Completed" "$(run_state run-2)"
for m in member1 member6; do
  expect_eq "$m control plane" "1.26.0" "$(version_of "$m")"
  expect_eq "$m node image untouched" "$UBUNTU-202401.09.0" "$(image_of "$m")"
done
out="$(run_fails fd updaterun start --name run-2)"
expect_contains "a Completed run cannot start again" "cannot start an update run that is Completed" "$out"
run_ok fd updaterun delete --name run-1 >/dev/null
run_ok fd updaterun delete --name run-3 >/dev/null

# ---------------------------------------------------------------------------------------------
step "Assign the members to update groups (az fleet member update --update-group)"
i=0
for g in group-1a group-1b group-1c group-2a group-2b group-2c; do
  i=$((i + 1))
  run_ok fd member update --name "member$i" --update-group "$g" >/dev/null
done
expect_eq "member4's group" "group-2a" "$(jp "membercluster member4" '{.metadata.labels.updates\.fleetdeck\.dev/group}')"

step "Define an update run with stages: run-4 with example-stages.json"
cat >example-stages.json <<'EOF'
{
    "stages": [
        {
            "name": "stage1",
            "groups": [
                {
                    "name": "group-1a"
                },
                {
                    "name": "group-1b"
                },
                {
                    "name": "group-1c"
                }
            ],
            "afterStageWaitInSeconds": 3600
        },
        {
            "name": "stage2",
            "groups": [
                {
                    "name": "group-2a"
                },
                {
                    "name": "group-2b"
                },
                {
                    "name": "group-2c"
                }
            ]
        }
    ]
}
EOF
run_ok fd updaterun create --name run-4 --upgrade-type Full --kubernetes-version 1.26.0 --stages example-stages.json >/dev/null
expect_jp "updaterun run-4" '{.status.stages[*].name}' "stage1 stage2"
expect_jp "updaterun run-4" '{.status.stages[1].groups[*].name}' "group-2a group-2b group-2c"
expect_jp "updaterun run-4" '{.status.stages[0].afterStageWaitStatus.waitDurationInSeconds}' "3600"

step "Start run-4: stage1's groups in parallel, then the one-hour wait"
run_ok fd updaterun start --name run-4 >/dev/null
# The stage stays Running until its wait is over.
wait_until "stage1's groups done and its wait running" \
  jp_is "updaterun run-4" '{.status.stages[0].groups[*].status.state}/{.status.stages[0].afterStageWaitStatus.status.state}' "Completed Completed Completed/Running"
expect_eq "member1 node image (eastus latest)" "$UBUNTU-202403.25.0" "$(image_of member1)"
expect_eq "member4 not yet" "$UBUNTU-202401.09.0" "$(image_of member4)"
expect_jp "updaterun run-4" '{.status.stages[1].status.state}' "NotStarted"

step "Skip the after-stage wait (az fleet updaterun skip --targets AfterStageWait:stage1)"
run_ok fd updaterun skip --name run-4 --targets AfterStageWait:stage1 >/dev/null
run_ok fd updaterun wait --name run-4 >/dev/null
expect_eq "run-4" "Completed" "$(run_state run-4)"
expect_jp "updaterun run-4" '{.status.stages[0].afterStageWaitStatus.status.state}' "Skipped"
expect_eq "member4 node image (westeurope latest)" "$UBUNTU-202402.07.0" "$(image_of member4)"

# ---------------------------------------------------------------------------------------------
step "Create an update run using an update strategy: strategy-1, run-5 (NodeImageOnly, Consistent)"
run_ok fd updatestrategy create --name strategy-1 --stages example-stages.json >/dev/null
expect_table "$(run_ok fd updatestrategy list -o table)" \
  "Name Stages" \
  "strategy-1|stage1[group-1a,group-1b,group-1c] → stage2[group-2a,group-2b,group-2c]"
run_ok fd updaterun create --name run-5 --update-strategy-name strategy-1 --upgrade-type NodeImageOnly --node-image-selection Consistent >/dev/null
wait_until "run-5 has its copy of strategy-1" \
  jp_is "updaterun run-5" '{.spec.strategy.stages[*].name}' "stage1 stage2"
# Consistent: the newest image published in every region of the run (westeurope lags).
expect_jp "updaterun run-5" '{.status.nodeImageSelection.selectedNodeImageVersions[*].version}' "$UBUNTU-202402.07.0"

# ---------------------------------------------------------------------------------------------
step "Manage an update run: start, stop, start, skip (run-6, control planes to 1.26.6)"
run_ok fd updaterun create --name run-6 --upgrade-type ControlPlaneOnly --kubernetes-version 1.26.6 --update-strategy-name strategy-1 >/dev/null
wait_until "run-6 planned" jp_is "updaterun run-6" '{.status.stages[0].name}' "stage1"
run_ok fd updaterun start --name run-6 >/dev/null
wait_until "run-6 in stage1's wait" \
  jp_is "updaterun run-6" '{.status.stages[0].afterStageWaitStatus.status.state}' "Running"
run_ok fd updaterun stop --name run-6 >/dev/null
wait_until "run-6 stopped" jp_is "updaterun run-6" '{.status.status.state}' "Stopped"
out="$(run_fails fd updaterun skip --name run-6 --targets Stage:stage1)"
expect_contains "a Stopped run cannot be skipped" "cannot skip an update run that is Stopped" "$out"
run_ok fd updaterun start --name run-6 >/dev/null
out="$(run_fails fd updaterun skip --name run-6 --targets Group:group-1a)"
expect_contains "a finished group cannot be skipped" "skip target Group:group-1a is already Completed" "$out"
run_ok fd updaterun skip --name run-6 --targets AfterStageWait:stage1 Group:group-2c >/dev/null
run_ok fd updaterun wait --name run-6 >/dev/null
expect_eq "run-6" "Completed" "$(run_state run-6)"
expect_jp "updaterun run-6" '{.status.stages[1].groups[2].status.state}' "Skipped"
expect_eq "member5 control plane" "1.26.6" "$(version_of member5)"
expect_eq "member6 (group-2c skipped) control plane" "1.26.0" "$(version_of member6)"
out="$(run_ok fd updaterun show --name run-6 -o table)"
expect_contains "show prints the tree" "      member6" "$out"

# ---------------------------------------------------------------------------------------------
step "Beyond the seed (aks §12): an approval gate before a stage, approved with fleetdeck gate approve"
run_ok fd updaterun create --name run-7 --upgrade-type ControlPlaneOnly --kubernetes-version 1.27.3 \
  --stages '{"stages": [{"name": "canary", "groups": [{"name": "group-1a"}]},
    {"name": "rest", "groups": [{"name": "group-1b"}], "beforeGates": [{"displayName": "canary looks good", "type": "Approval"}]}]}' >/dev/null
run_ok fd updaterun start --name run-7 >/dev/null
wait_until "run-7 waits at the gate" jp_is "updaterun run-7" '{.status.stages[1].beforeGates[0].status.state}' "Pending"
gate="$(jp "updaterun run-7" '{.status.stages[1].beforeGates[0].gateId}')"
expect_table "$(run_ok fd gate list --state Pending -o table)" \
  "Name Type State UpdateRun Stage Group Timing DisplayName" \
  "$gate|Approval|Pending|run-7|rest||Before|canary looks good"
expect_eq "member1 (canary) control plane" "1.27.3" "$(version_of member1)"
expect_eq "member2 waits for the approval" "1.26.6" "$(version_of member2)"
run_ok fd gate approve --gate-name "$gate" >/dev/null
out="$(run_fails fd gate approve --gate-name "$gate")"
expect_contains "a gate is approved once" "is Completed; only a Pending gate can be approved" "$out"
run_ok fd updaterun wait --name run-7 >/dev/null
expect_eq "member2 control plane" "1.27.3" "$(version_of member2)"

# ---------------------------------------------------------------------------------------------
step "Beyond the seed (aks §11): auto-upgrade profiles — a release triggers a started run, generate-update-run makes one not started"
run_ok fd autoupgradeprofile create --name rapid --channel Rapid --update-strategy-id strategy-1 >/dev/null
run_ok fd autoupgradeprofile create --name images --channel NodeImage --disabled >/dev/null
out="$(run_fails fd autoupgradeprofile create --name bad --channel NodeImage --node-image-selection Latest)"
expect_contains "NodeImage takes no image selection" "nodeImageSelection cannot be set when channel is 'NodeImage'" "$out"
out="$(run_fails kubectl patch autoupgradeprofile rapid --type merge -p '{"spec": {"updateStrategyName": "other"}}')"
expect_contains "the strategy is fixed at creation" 'spec.updateStrategyName: Invalid value: "other": field is immutable' "$out"
# What the catalogue offers today is already available (no catch-up): observed, not triggered.
wait_until "rapid observed 1.27.3" jp_is "autoupgradeprofile rapid" '{.status.observedRelease.versions[0]}' "1.27.3"
expect_jp "autoupgradeprofile rapid" '{.status.autoUpgradeProfileStatus.lastTriggerStatus}' ""
out="$(run_ok fd autoupgradeprofile list -o table)"
expect_contains "list shows the profiles" "LastTriggerStatus" "$out"
expect_contains "list shows rapid's strategy" "strategy-1" "$out"
# A release: 1.27.9 published in eastus and westus2 (westeurope's members wait for it, Pending).
sed -i 's/1.26.6, 1.27.3\]/1.26.6, 1.27.3, 1.27.9]/' "$FLEETDECK_DATA_DIR/release-catalogue.yaml"
wait_until "rapid triggered" jp_is "autoupgradeprofile rapid" '{.status.autoUpgradeProfileStatus.lastTriggerStatus}' "Succeeded"
auto_run="$(jp "autoupgradeprofile rapid" '{.status.autoUpgradeProfileStatus.lastTriggerUpdateRunName}')"
expect_jp "updaterun $auto_run" '{.spec.autoUpgradeProfileId}' "rapid"
expect_jp "updaterun $auto_run" '{.spec.managedClusterUpdate.upgrade.kubernetesVersion}' "1.27.9"
run_started() { case "$(run_state "$1")" in Running | Pending) return 0 ;; *) return 1 ;; esac; }
wait_until "$auto_run started by the profile" run_started "$auto_run"
expect_jp "autoupgradeprofile images" '{.status.autoUpgradeProfileStatus.lastTriggerStatus}' ""
first="$(run_ok fd autoupgradeprofile generate-update-run --name images -o yaml)"
again="$(run_ok fd autoupgradeprofile generate-update-run --profile-name images -o yaml)"
expect_eq "generating again returns the same run" "$first" "$again"
generated="${first#id: }"
wait_until "$generated planned (one by one)" jp_is "updaterun $generated" '{.status.stages[0].name}' "default"
expect_eq "a generated run is not started" "NotStarted" "$(run_state "$generated")"
run_ok fd autoupgradeprofile delete --name images --yes >/dev/null
expect_eq "deleting a profile leaves its run" "NotStarted" "$(run_state "$generated")"

log "seed 004 replayed"
