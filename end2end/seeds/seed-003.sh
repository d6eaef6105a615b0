#!/usr/bin/env bash
# Seed 003 (shared/seeds/003_*.txt, the AKS guide "Troubleshooting ClusterStagedUpdateRun API",
# 2026-01) replayed with kubectl: each troubleshooting case reproduced on its own fresh fleetdeck
# and diagnosed with the guide's commands, checking the statuses it shows.
#
# The guide never shows its strategy; the one below fits every listing it shows: stage staging
# (member2) with an after-stage Approval (example-run-after-staging), then canary sorted by order.
# Its fleet had two members; the demo fleet has three, so counts say 3 where the guide says 2.
#
# The stuck case needs the 5-minute stuck threshold to pass; it runs in the background, on its own
# fleetdeck, while the other cases run.
source "$(dirname "$0")/lib.sh"

setup_placement() {
  run_ok kubectl create ns test-namespace >/dev/null
  run_ok kubectl apply -f - <<EOF >/dev/null
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata:
  name: example-placement
spec:
  resourceSelectors:
    - group: ""
      kind: Namespace
      name: test-namespace
      version: v1
  policy:
    placementType: PickAll
  strategy:
    type: External
EOF
  run_ok kubectl apply -f - <<EOF >/dev/null
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata:
  name: example-strategy
spec:
  stages:
    - name: staging
      labelSelector:
        matchLabels:
          environment: staging
      afterStageTasks:
        - type: Approval
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
EOF
  wait_until "example-placement is scheduled" \
    condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True
}

# create_run NAME INDEX STATE (INDEX "" = omitted)
create_run() {
  local index_line=""
  [ -z "$2" ] || index_line="  resourceSnapshotIndex: \"$2\""
  run_ok kubectl apply -f - <<EOF >/dev/null
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: $1
spec:
  placementName: example-placement
$index_line
  stagedRolloutStrategyName: example-strategy
  state: $3
EOF
}

# approve NAME GENERATION: the Approved condition, through the status subresource, as in the
# guide's reference ("Approve the Staged Update Run").
approve() {
  run_ok kubectl patch clusterapprovalrequests "$1" --type='merge' --subresource=status \
    -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":'"$2"'}]}}'
}

RUN_HEADER="NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE"
APPLIED_STRATEGY='{"comparisonOption":"PartialComparison","type":"ClientSideApply","whenToApply":"Always","whenToTakeOver":"Always"}'

# ---------------------------------------------------------------------------------------------
case_stuck() {
  start_fleetdeck --kubelet-delay 2s
  step "Investigate ClusterStagedUpdateRun Rollout Stuck: a Deployment whose image cannot be pulled"
  setup_placement
  run_ok kubectl create deployment nginx-deployment --image=nginx:1.20 --replicas=3 -n test-namespace
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
  run_ok kubectl set image deployment/nginx-deployment nginx=nginx:INVALID -n test-namespace
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 1
  create_run example-run 1 Initialize
  wait_until "example-run is initialized" \
    condition_is "csur example-run" .status Initialized True UpdateRunInitializedSuccessfully
  run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}'
  local RUN="csur example-run"
  wait_until "member2 started" \
    condition_is "$RUN" '.status.stagesStatus[0].clusters[0]' Started True ClusterUpdatingStarted

  step "kubectl describe clusteresourcerplacement example-placement"
  # As written the resource name is misspelt.
  out="$(run_fails kubectl describe clusteresourcerplacement example-placement)"
  expect_contains "the guide's typo" 'the server doesn'"'"'t have a resource type "clusteresourcerplacement"' "$out"
  local PS='.status.placementStatuses[?(@.clusterName=="member2")]'
  local CRP="crp example-placement"
  wait_until "member2 reports the Deployment not available" \
    jp_is "$CRP" "{$PS.failedPlacements[0].condition.reason}" ManifestNotAvailableYet
  out="$(run_ok kubectl describe clusterresourceplacement example-placement)"
  expect_contains "describe shows the failed placement" "nginx-deployment" "$out"
  expect_contains "describe shows the reason" "NotAllWorkAreAvailable" "$out"
  expect_json "$CRP" '[.status.placementStatuses[] | select(.clusterName == "member2") | .conditions[] | {type, status, reason}]' '[
    {"type":"Scheduled","status":"True","reason":"Scheduled"},
    {"type":"RolloutStarted","status":"True","reason":"RolloutStarted"},
    {"type":"Overridden","status":"True","reason":"NoOverrideSpecified"},
    {"type":"WorkSynchronized","status":"True","reason":"AllWorkSynced"},
    {"type":"Applied","status":"True","reason":"AllWorkHaveBeenApplied"},
    {"type":"Available","status":"False","reason":"NotAllWorkAreAvailable"}]'
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"Scheduled\")].message}" \
    'Successfully scheduled resources for placement in "member2" (affinity score: 0, topology spread score: 0): picked by scheduling policy'
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"RolloutStarted\")].message}" \
    "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: 1, updateRun: example-run"
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"Overridden\")].message}" "No override rules are configured for the selected resources"
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"WorkSynchronized\")].message}" "All of the works are synchronized to the latest"
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"Applied\")].message}" "All corresponding work objects are applied"
  expect_jp "$CRP" "{$PS.conditions[?(@.type==\"Available\")].message}" "Work object example-placement-work is not yet available"
  # (The condition's observedGeneration is left out: the guide's 1 is the generation of a Work
  # object, which fleetdeck's member agent does not have.)
  expect_json "$CRP" '[.status.placementStatuses[] | select(.clusterName == "member2") | .failedPlacements[] | del(.condition.lastTransitionTime, .condition.observedGeneration)]' '[
    {"condition":{"message":"Manifest is not yet available; Fleet will check again later","reason":"ManifestNotAvailableYet","status":"False","type":"Available"},
     "group":"apps","kind":"Deployment","name":"nginx-deployment","namespace":"test-namespace","version":"v1"}]'

  step "Check from member2 cluster: image pull failure"
  run_ok kubectl config use-context member2
  expect_table "$(kubectl get deployment -n test-namespace)" \
    "NAME READY UP-TO-DATE AVAILABLE AGE" \
    "nginx-deployment|0/3|3|0|9m54s"
  out="$(run_ok kubectl get pods -n test-namespace)"
  expect_eq "pods header" "NAME READY STATUS RESTARTS AGE" "$(header_of "$out")"
  expect_eq "pods: three, each InvalidImageName" \
    "3 x nginx-deployment-<hash>-<id>|0/1|InvalidImageName|0|*" \
    "$(printf '%s\n' "$out" | table_cells | sed -E 's/^nginx-deployment-[a-z0-9]+-[a-z0-9]{5}\|/nginx-deployment-<hash>-<id>|/' | sort | uniq -c | sed -E 's/^ *([0-9]+) /\1 x /')"
  run_ok kubectl config use-context hub
  # The other members have nothing yet: the run waits on member2.
  wait_until "nothing on member1 and member3" \
    members_are "deployment nginx-deployment -n test-namespace" '{.spec.template.spec.containers[0].image}' "<absent>" nginx:INVALID "<absent>"

  step "kubectl get clusterstagedupdaterun example-run -o yaml: UpdateRunStuck after 5 minutes"
  # The stuck threshold is 5 minutes (spec §9.6); the deadline leaves room for it.
  WAIT_TIMEOUT=600 wait_until "example-run is stuck" condition_is "$RUN" .status Progressing False UpdateRunStuck
  kubectl get clusterstagedupdaterun example-run -o yaml >/dev/null
  expect_jp "$RUN" '{.status.conditions[?(@.type=="Progressing")].message}' \
    "The updateRun is stuck waiting for member2 cluster(s) in stage staging to finish updating, please check placement status for potential errors"
  expect_json "$RUN" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_jp "$RUN" '{.metadata.generation}' 2
  expect_stamped "$RUN"
  expect_json "$RUN" '.status.stagesStatus | map(stage)' '[
    {"stage":"staging","conds":["Progressing=True/StageUpdatingStarted"],
     "clusters":[{"cluster":"member2","conds":["Started=True/ClusterUpdatingStarted"]}],
     "before":[],"after":[{"task":"Approval example-run-after-staging","conds":[]}]},
    {"stage":"canary","conds":[],"clusters":[{"cluster":"member3","conds":[]},{"cluster":"member1","conds":[]}],"before":[],"after":[]}]'
  expect_jp "$RUN" '{.status.stagesStatus[0].conditions[0].message}' "Clusters in the stage started updating"
  expect_jp "$RUN" '{.status.stagesStatus[0].clusters[0].conditions[0].message}' "Cluster update started"
  expect_table "$(kubectl get csur example-run)" "$RUN_HEADER" \
    "example-run|example-placement|1|0|True|False||6m"
  # Still nothing beyond member2.
  out="$(members_are "deployment nginx-deployment -n test-namespace" '{.spec.template.spec.containers[0].image}' \
    "<absent>" nginx:INVALID "<absent>")" || fail "a stuck run must not go past member2:
$out"

  step "After resolving the issue, create a new updateRun to restart the rollout; stuck runs can be deleted"
  run_ok kubectl set image deployment/nginx-deployment nginx=nginx:1.21 -n test-namespace
  run_ok kubectl delete csur example-run
  create_run example-run-2 "" Run
  wait_until "example-run-2-after-staging exists" kubectl get clusterapprovalrequest example-run-2-after-staging
  expect_jp "csur example-run-2" '{.status.resourceSnapshotIndexUsed}' 2
  approve example-run-2-after-staging 1
  wait_until "example-run-2 succeeded" condition_is "csur example-run-2" .status Succeeded True UpdateRunSucceeded
  expect_member_deployments nginx:1.21
  for m in "${MEMBERS[@]}"; do
    wait_until "nginx-deployment is ready on $m" \
      jp_is "deployment nginx-deployment -n test-namespace --context $m" '{.status.readyReplicas}' 3
  done
  stop_fleetdeck
}

expect_member_deployments() {
  wait_until "nginx-deployment image on every member is $1" \
    members_are "deployment nginx-deployment -n test-namespace" '{.spec.template.spec.containers[0].image}' "$1" "$1" "$1"
}

# ---------------------------------------------------------------------------------------------
case_external_placement_and_init_failure() {
  start_fleetdeck --kubelet-delay 2s
  step "ClusterResourcePlacement Status Without Staged Update Run"
  setup_placement
  run_ok kubectl create cm test-cm --from-literal=key=value1 -n test-namespace >/dev/null
  out="$(run_fails kubectl describe clusterrresourceplacement example-placement)"
  expect_contains "the guide's typo" 'the server doesn'"'"'t have a resource type "clusterrresourceplacement"' "$out"
  out="$(run_ok kubectl describe clusterresourceplacement example-placement)"
  expect_contains "describe" "RolloutControlledByExternalController" "$out"
  local CRP="crp example-placement"
  expect_condition "$CRP" .status ClusterResourcePlacementScheduled True SchedulingPolicyFulfilled \
    "found all cluster needed as specified by the scheduling policy, found 3 cluster(s)"
  # The message changed on 2026-03-25 (spec §14 row 15).
  expect_condition "$CRP" .status ClusterResourcePlacementRolloutStarted Unknown RolloutControlledByExternalController \
    "Rollout is controlled by an external controller and no resource snapshot name is observed across clusters. To determine rollout status, check the ClusterStagedUpdateRun resources with spec.placementName matching this placement"
  expect_json "$CRP" '[.status.placementStatuses[] | {cluster: .clusterName, conds: [.conditions[] | "\(.type)=\(.status)/\(.reason)"]}]' '[
    {"cluster":"member1","conds":["Scheduled=True/Scheduled","RolloutStarted=Unknown/RolloutStartedUnknown"]},
    {"cluster":"member2","conds":["Scheduled=True/Scheduled","RolloutStarted=Unknown/RolloutStartedUnknown"]},
    {"cluster":"member3","conds":["Scheduled=True/Scheduled","RolloutStarted=Unknown/RolloutStartedUnknown"]}]'
  expect_jp "$CRP" '{.status.placementStatuses[0].conditions[?(@.type=="RolloutStarted")].message}' \
    "In the process of deciding whether to roll out some version of the resources or not"
  expect_jp "$CRP" '{.status.placementStatuses[0].conditions[?(@.type=="Scheduled")].message}' \
    'Successfully scheduled resources for placement in "member1" (affinity score: 0, topology spread score: 0): picked by scheduling policy'

  step "Investigate ClusterStagedUpdateRun Initialization Failure: index 1 does not exist"
  create_run example-run 1 Run
  local RUN="csur example-run"
  wait_until "example-run failed to initialize" \
    condition_is "$RUN" .status Initialized False UpdateRunInitializedFailed
  out="$(run_ok kubectl get csur example-run)"
  expect_table "$out" "$RUN_HEADER" "example-run|example-placement|1|0|False|||4s"
  # shellcheck disable=SC2016 # backquotes are part of the message
  local MSG='cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: no resourceSnapshots with index `1` found for placement `/example-placement`'
  expect_condition "$RUN" .status Initialized False UpdateRunInitializedFailed "$MSG"
  expect_json "$RUN" '.status | conds' '["Initialized=False/UpdateRunInitializedFailed"]'
  out="$(run_ok kubectl describe clusterstagedupdaterun example-run)"
  expect_contains "describe: message" "$MSG" "$out"
  expect_contains "describe: reason" "UpdateRunInitializedFailed" "$out"
  expect_contains "describe: deletion stage" "kubernetes-fleet.io/deleteStage" "$out"
  # Partial results are kept (spec §9.3).
  expect_json "$RUN" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_jp "$RUN" '{.status.policyObservedClusterCount}' 3
  expect_jp "$RUN" '{.status.policySnapshotIndexUsed}' 0
  expect_jp "$RUN" '{.status.deletionStageStatus.stageName}' kubernetes-fleet.io/deleteStage
  # Permanent: nothing rolls out.
  expect_member_cms "<absent>" "<absent>" "<absent>"

  step "Things to keep in mind: runs created in Initialize or Stop do not execute"
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
  create_run run-initialize 0 Initialize
  create_run run-stop 0 Stop
  wait_until "run-initialize is initialized" \
    condition_is "csur run-initialize" .status Initialized True UpdateRunInitializedSuccessfully
  wait_until "run-stop is stopped" condition_is "csur run-stop" .status Progressing False UpdateRunStopped
  expect_json "csur run-initialize" '.status | conds' '["Initialized=True/UpdateRunInitializedSuccessfully"]'
  expect_condition "csur run-initialize" .status Initialized True UpdateRunInitializedSuccessfully "The UpdateRun initialized successfully"
  expect_json "csur run-initialize" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_json "csur run-stop" '.status | conds' '["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunStopped"]'
  expect_condition "csur run-stop" .status Progressing False UpdateRunStopped "The update run has been stopped"
  expect_json "csur run-stop" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_member_cms "<absent>" "<absent>" "<absent>"
  stop_fleetdeck
}

# ---------------------------------------------------------------------------------------------
case_placement_deleted() {
  start_fleetdeck --kubelet-delay 2s
  step "Investigate ClusterStagedUpdateRun Execution Failure: the placement is deleted during the run"
  setup_placement
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
  create_run example-run 0 Initialize
  run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}' >/dev/null
  local RUN="csur example-run"
  wait_until "example-run waits for the staging approval" \
    kubectl get clusterapprovalrequest example-run-after-staging
  run_ok kubectl delete crp example-placement
  wait_until "example-run failed" condition_is "$RUN" .status Succeeded False UpdateRunFailed
  # The guide's listing has no PROGRESSING column (spec §14 row 4).
  expect_table "$(kubectl get clusterstagedupdaterun example-run)" "$RUN_HEADER" \
    "example-run|example-placement|0|0|True|False|False|24m"
  expect_json "$RUN" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_jp "$RUN" '{.metadata.generation}' 2
  expect_stamped "$RUN"
  expect_json "$RUN" '.status | conds' \
    '["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunFailed","Succeeded=False/UpdateRunFailed"]'
  expect_condition "$RUN" .status Initialized True UpdateRunInitializedSuccessfully "The UpdateRun initialized successfully"
  expect_condition "$RUN" .status Progressing False UpdateRunFailed "The stages are aborted due to a non-recoverable error"
  expect_condition "$RUN" .status Succeeded False UpdateRunFailed \
    "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: parent placement not found"
  stop_fleetdeck
}

# ---------------------------------------------------------------------------------------------
case_concurrent_runs() {
  # Pods take 30s to become ready, so that member2 is still updating when the second run comes.
  start_fleetdeck --kubelet-delay 30s
  step "Investigate ClusterStagedUpdateRun Execution Failure: a concurrent run pre-empts the first"
  setup_placement
  run_ok kubectl create deployment nginx-deployment --image=nginx:1.20 --replicas=3 -n test-namespace
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
  run_ok kubectl set image deployment/nginx-deployment nginx=nginx:1.21 -n test-namespace
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 1
  create_run example-run 0 Run
  local RUN="csur example-run"
  wait_until "example-run started member2" \
    condition_is "$RUN" '.status.stagesStatus[0].clusters[0]' Started True ClusterUpdatingStarted
  create_run example-run-1 1 Run
  wait_until "example-run failed" condition_is "$RUN" .status Succeeded False UpdateRunFailed

  local binding
  binding="$(kubectl get clusterresourcebindings -l kubernetes-fleet.io/parent-CRP=example-placement \
    -o jsonpath='{.items[?(@.spec.targetCluster=="member2")].metadata.name}')"
  [[ "$binding" =~ ^example-placement-member2-[0-9a-f]{8}$ ]] || fail "unexpected binding name '$binding'"
  expect_jp "$RUN" '{.metadata.generation}' 1
  expect_json "$RUN" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_json "$RUN" '.status | conds' \
    '["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunFailed","Succeeded=False/UpdateRunFailed"]'
  expect_condition "$RUN" .status Progressing False UpdateRunFailed "The stages are aborted due to a non-recoverable error"
  expect_condition "$RUN" .status Succeeded False UpdateRunFailed \
    "cannot continue the updateRun: failed to process the request due to a client error: the binding of the updating cluster \`member2\` in the stage \`staging\` is not up-to-date with the desired status, please check the status of binding \`$binding\` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster"

  step "kubectl get clusterresourcebindings"
  wait_until "member2's binding reports its work applied" \
    condition_is "clusterresourcebinding $binding" .status Applied True
  local -a rows=()
  local b
  for b in $(kubectl get clusterresourcebindings -o jsonpath='{.items[*].metadata.name}'); do
    case "$b" in
    "$binding") rows+=("$b|True|True|20m") ;;
    *) rows+=("$b|||20m") ;;
    esac
  done
  expect_eq "bindings" 3 "${#rows[@]}"
  expect_table "$(kubectl get clusterresourcebindings)" "NAME WORKSYNCHRONIZED RESOURCESAPPLIED AGE" "${rows[@]}"

  step "kubectl get clusterresourcebinding $binding -o yaml"
  kubectl get clusterresourcebinding "$binding" -o yaml >/dev/null
  local B="clusterresourcebinding $binding"
  expect_json "$B" '.spec | del(.clusterDecision)' '{"applyStrategy":'"$APPLIED_STRATEGY"',
    "resourceSnapshotName":"example-placement-1-snapshot","schedulingPolicySnapshotName":"example-placement-0",
    "state":"Bound","targetCluster":"member2"}'
  expect_json "$B" .spec.clusterDecision '{"clusterName":"member2","clusterScore":{"affinityScore":0,"priorityScore":0},
    "reason":"Successfully scheduled resources for placement in \"member2\" (affinity score: 0, topology spread score: 0): picked by scheduling policy",
    "selected":true}'
  expect_condition "$B" .status RolloutStarted True RolloutStarted \
    "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: 1, updateRun: example-run-1"

  step "If pre-emption happens, let the new updateRun complete"
  wait_until "example-run-1-after-staging exists" kubectl get clusterapprovalrequest example-run-1-after-staging
  approve example-run-1-after-staging 1
  wait_until "example-run-1 succeeded" condition_is "csur example-run-1" .status Succeeded True UpdateRunSucceeded
  expect_member_deployments nginx:1.21
  # The failed run stays failed.
  expect_json "$RUN" '.status | conds' \
    '["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunFailed","Succeeded=False/UpdateRunFailed"]'
  stop_fleetdeck
}

# ---------------------------------------------------------------------------------------------
case_approval_generation() {
  start_fleetdeck --kubelet-delay 2s
  step "ClusterApprovalRequest Troubleshooting: approved with the wrong observedGeneration"
  setup_placement
  run_ok kubectl create cm test-cm --from-literal=key=value1 -n test-namespace >/dev/null
  capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
  create_run example-run 0 Run
  local RUN="csur example-run"
  wait_until "example-run-after-staging exists" kubectl get clusterapprovalrequest example-run-after-staging
  approve example-run-after-staging 0
  # The engine reacts to approval events within milliseconds; give it ample time to (wrongly)
  # accept the approval before checking that it did not.
  sleep 5

  step "kubectl get clusterstagedupdaterun example-run: still waiting"
  expect_json "$RUN" '.status | conds' '["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunWaiting"]'
  expect_condition "$RUN" .status Progressing False UpdateRunWaiting \
    "The updateRun is waiting for after-stage tasks in stage staging to complete"
  expect_condition "$RUN" .status Initialized True UpdateRunInitializedSuccessfully "The UpdateRun initialized successfully"
  expect_json "$RUN" .status.appliedStrategy "$APPLIED_STRATEGY"
  expect_member_cms "<absent>" value1 "<absent>"

  step "kubectl get clusterapprovalrequest example-run-after-staging"
  # The APPROVED column shows the condition's status whatever its generation.
  expect_table "$(kubectl get clusterapprovalrequest example-run-after-staging)" \
    "NAME UPDATE-RUN STAGE APPROVED AGE" \
    "example-run-after-staging|example-run|staging|True|5m"
  local AR="clusterapprovalrequest example-run-after-staging"
  expect_jp "$AR" '{.metadata.generation}' 1
  expect_json "$AR" .metadata.labels '{"kubernetes-fleet.io/isLatestUpdateRunApproval":"true",
    "kubernetes-fleet.io/targetUpdateRun":"example-run","kubernetes-fleet.io/targetUpdatingStage":"staging",
    "kubernetes-fleet.io/taskType":"afterStage"}'
  expect_json "$AR" .spec '{"parentStageRollout":"example-run","targetStage":"staging"}'
  # No ApprovalAccepted: the Approved condition's observedGeneration is 0, not 1.
  expect_json "$AR" '[.status.conditions[] | del(.lastTransitionTime)]' \
    '[{"message":"approved","observedGeneration":0,"reason":"approved","status":"True","type":"Approved"}]'

  step "To remedy, update the condition with the correct observedGeneration"
  approve example-run-after-staging 1
  wait_until "the approval is accepted" \
    condition_is "$AR" .status ApprovalAccepted True ApprovalRequestApprovalAccepted
  expect_jp "$AR" '{.status.conditions[?(@.type=="ApprovalAccepted")].message}' \
    "The approval request has been approved and cannot be reverted"
  wait_until "example-run succeeded" condition_is "$RUN" .status Succeeded True UpdateRunSucceeded
  expect_member_cms value1 value1 value1
  stop_fleetdeck
}

# ---------------------------------------------------------------------------------------------
stuck_log="$(mktemp "${TMPDIR:-/tmp}/seed-003-stuck.XXXXXX")"
(
  trap stop_fleetdeck EXIT
  trap 'exit 143' TERM
  case_stuck
) >"$stuck_log" 2>&1 &
stuck_pid=$!
trap 'kill "$stuck_pid" 2>/dev/null || true; stop_fleetdeck' EXIT

case_external_placement_and_init_failure
case_placement_deleted
case_concurrent_runs
case_approval_generation

step "waiting for the stuck case (it runs in the background)"
if wait "$stuck_pid"; then
  cat "$stuck_log"
  rm -f "$stuck_log"
else
  cat "$stuck_log"
  rm -f "$stuck_log"
  fail "the stuck case failed (its log is above)"
fi
step "seed 003 replayed"
