#!/usr/bin/env bash
# Seed 000 (shared/seeds/000_*.txt, the AKS how-to "Use ClusterStagedUpdateRun to orchestrate
# staged rollouts", 2025-07) replayed with kubectl against a fresh fleetdeck: rollout of a changed
# ConfigMap through staging (TimedWait 1m) and canary (sortingLabelKey order, Approval), then a
# rollback to the previous snapshot. The document is the oldest seed; where it shows older
# behaviour the script asserts today's (spec §14, row cited), and then carries on the current way,
# so that the rest of the document is still checked.
source "$(dirname "$0")/lib.sh"

start_fleetdeck --kubelet-delay 2s

step "Set up the demo environment: member clusters and their labels"
for m in member1:environment=canary,order=2 member2:environment=staging member3:environment=canary,order=1; do
  name="${m%%:*}"
  want="${m#*:}"
  got="$(kubectl get membercluster "$name" -o go-template='{{index .metadata.labels "environment"}}{{with index .metadata.labels "order"}},order={{.}}{{end}}')"
  expect_eq "labels of $name" "$want" "environment=$got"
done

# ---------------------------------------------------------------------------------------------
step "Prepare workloads for placement"
out="$(run_ok kubectl create ns test-namespace)"
expect_eq "create ns" "namespace/test-namespace created" "$out"
out="$(run_ok kubectl create cm test-cm --from-literal=key=value1 -n test-namespace)"
expect_eq "create cm" "configmap/test-cm created" "$out"

out="$(run_ok kubectl apply -f - <<EOF
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
)"
expect_eq "apply crp" "clusterresourceplacement.placement.kubernetes-fleet.io/example-placement created" "$out"

step "Verify the placement is scheduled"
wait_until "example-placement is scheduled" \
  condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|||51s"
# "no resources should be deployed on the member clusters yet"
expect_member_cms "<absent>" "<absent>" "<absent>"

# ---------------------------------------------------------------------------------------------
step "Check current resource snapshots"
# The document shows example-placement-0-snapshot right away. External placements get no
# automatic snapshots any more (spec §14 row 9): only a run creates them.
out="$(run_ok kubectl get clusterresourcesnapshots --show-labels)"
expect_eq "snapshots before any run (spec §14 row 9)" "No resources found" "$out"

# The current way to take snapshot 0 of value1: a run without resourceSnapshotIndex, left in
# Initialize (it needs the strategy, which the document applies further down; applying it early
# changes nothing else).
cat >strategy.yaml <<EOF
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
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      afterStageTasks:
        - type: Approval
EOF
run_ok kubectl apply -f strategy.yaml
capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0

expect_table "$(kubectl get clusterresourcesnapshots --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|60s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0"

# ---------------------------------------------------------------------------------------------
step "Create a new resource snapshot: kubectl edit cm test-cm (value1 → value2)"
out="$(EDITOR="$(editor_replacing 'key: value1' 'key: value2')" run_ok kubectl edit cm test-cm -n test-namespace)"
expect_eq "kubectl edit" "configmap/test-cm edited" "$out"
out="$(run_ok kubectl get configmap test-cm -n test-namespace -o yaml)"
expect_contains "edited cm" "  key: value2" "$out"
expect_contains "edited cm kind" "kind: ConfigMap" "$out"
expect_jp "configmap test-cm -n test-namespace" '{.data.key}' value2

# Again no snapshot appears by itself (spec §14 row 9); a run takes it.
expect_table "$(kubectl get clusterresourcesnapshots --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|2m6s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0"
capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 1

expect_table "$(kubectl get clusterresourcesnapshots --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|2m6s|kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0" \
  "example-placement-1-snapshot|1|10s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=1"

step "The latest snapshot holds the latest configmap data"
out="$(run_ok kubectl get clusterresourcesnapshots example-placement-1-snapshot -o yaml)"
expect_contains "snapshot apiVersion" "apiVersion: placement.kubernetes-fleet.io/v1" "$out"
expect_contains "snapshot kind" "kind: ClusterResourceSnapshot" "$out"
SNAP="clusterresourcesnapshots example-placement-1-snapshot"
expect_json "$SNAP" '.metadata.annotations | del(."kubernetes-fleet.io/resource-hash")' \
  '{"kubernetes-fleet.io/number-of-enveloped-object":"0","kubernetes-fleet.io/number-of-resource-snapshots":"1"}'
expect_json "$SNAP" '.metadata.annotations."kubernetes-fleet.io/resource-hash" | test("^[0-9a-f]{64}$")' true
expect_json "$SNAP" .metadata.labels \
  '{"kubernetes-fleet.io/is-latest-snapshot":"true","kubernetes-fleet.io/parent-CRP":"example-placement","kubernetes-fleet.io/resource-index":"1"}'
expect_json "$SNAP" '.metadata.ownerReferences | map(del(.uid))' \
  '[{"apiVersion":"placement.kubernetes-fleet.io/v1beta1","blockOwnerDeletion":true,"controller":true,"kind":"ClusterResourcePlacement","name":"example-placement"}]'
expect_json "$SNAP" .spec.selectedResources '[
  {"apiVersion":"v1","kind":"Namespace","metadata":{"labels":{"kubernetes.io/metadata.name":"test-namespace"},"name":"test-namespace"},"spec":{"finalizers":["kubernetes"]}},
  {"apiVersion":"v1","data":{"key":"value2"},"kind":"ConfigMap","metadata":{"name":"test-cm","namespace":"test-namespace"}}]'
expect_jp "clusterresourcesnapshots example-placement-0-snapshot" '{.spec.selectedResources[1].data.key}' value1

# ---------------------------------------------------------------------------------------------
step "Deploy a ClusterStagedUpdateStrategy"
out="$(run_ok kubectl apply -f - <<EOF
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
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      afterStageTasks:
        - type: Approval
EOF
)"
# Applied above already; kubectl still sends the stages, because the hub defaulted maxConcurrency
# inside them (CRD default 1) and a merge patch can only replace a list whole, as on any apiserver.
expect_eq "apply strategy (applied above already)" \
  "clusterstagedupdatestrategy.placement.kubernetes-fleet.io/example-strategy configured" "$out"

# ---------------------------------------------------------------------------------------------
step "Deploy a ClusterStagedUpdateRun to roll out latest change"
run_ok kubectl apply -f - <<EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run
spec:
  placementName: example-placement
  resourceSnapshotIndex: "1"
  stagedRolloutStrategyName: example-strategy
EOF
RUN="csur example-run"
wait_until "example-run is initialized" \
  condition_is "$RUN" .status Initialized True UpdateRunInitializedSuccessfully
# The document's run starts at once. A run without `state` now only initializes (spec §14 row 1),
# and the listing has a PROGRESSING column (row 4).
expect_jp "$RUN" '{.spec.state}' Initialize
expect_table "$(kubectl get csur example-run)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run|example-placement|1|0|True|||7s"
expect_member_cms "<absent>" "<absent>" "<absent>"
# Today the run is started explicitly (seeds 001/002 show this command).
run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}'

step "A more detailed look at the status after some time has elapsed"
wait_until "example-run-after-canary exists" kubectl get clusterapprovalrequest example-run-after-canary
wait_until "example-run waits for the canary after-stage tasks" \
  jp_is "$RUN" '{.status.conditions[?(@.type=="Progressing")].message}' \
  "The updateRun is waiting for after-stage tasks in stage canary to complete"
# Generation 2 (not 1) because of the state change above; every condition carries it.
expect_jp "$RUN" '{.metadata.generation}' 2
expect_stamped "$RUN"
expect_jp "$RUN" '{.metadata.finalizers}' '["kubernetes-fleet.io/stagedupdaterun-finalizer"]'
# Messages as of today (spec §14 row 7): "The UpdateRun initialized successfully", not
# "ClusterStagedUpdateRun initialized successfully".
expect_condition "$RUN" .status Initialized True UpdateRunInitializedSuccessfully "The UpdateRun initialized successfully"
expect_jp "$RUN" '{.status.policyObservedClusterCount}' 3
expect_jp "$RUN" '{.status.policySnapshotIndexUsed}' 0
expect_jp "$RUN" '{.status.resourceSnapshotIndexUsed}' 1
expect_json "$RUN" .status.stagedUpdateStrategySnapshot '{"stages":[
  {"afterStageTasks":[{"type":"TimedWait","waitTime":"1m0s"}],"labelSelector":{"matchLabels":{"environment":"staging"}},"maxConcurrency":1,"name":"staging"},
  {"afterStageTasks":[{"type":"Approval"}],"labelSelector":{"matchLabels":{"environment":"canary"}},"maxConcurrency":1,"name":"canary","sortingLabelKey":"order"}]}'
# Approval task reasons and the request name as of today: StageTaskApprovalRequestCreated (spec
# §14 row 6) and example-run-after-canary (row 2), not example-run-canary.
expect_json "$RUN" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunWaiting"],
  "stages":[
    {"stage":"staging","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member2","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[],"after":[{"task":"TimedWait","conds":["WaitTimeElapsed=True/AfterStageTaskWaitTimeElapsed"]}]},
    {"stage":"canary","conds":["Progressing=False/StageUpdatingWaiting"],
     "clusters":[{"cluster":"member3","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]},
                 {"cluster":"member1","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[],"after":[{"task":"Approval example-run-after-canary","conds":["ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":[],"clusters":[],"before":[],"after":[]}}'
expect_jp "$RUN" '{.status.stagesStatus[0].afterStageTaskStatus[0].conditions[0].message}' "Wait time elapsed"
expect_jp "$RUN" '{.status.stagesStatus[1].conditions[?(@.type=="Progressing")].message}' \
  "All clusters in the stage are updated, waiting for after-stage tasks to complete"
expect_jp "$RUN" '{.status.stagesStatus[1].afterStageTaskStatus[0].conditions[0].message}' "ApprovalRequest object is created"
expect_jp "$RUN" '{.status.deletionStageStatus.clusters}' '[]'

# "according to the labelSelector and sortingLabelKey, member3 is selected first in this stage;
# member1 is selected after member3 because of order=2" — one at a time (maxConcurrency 1).
m3_done="$(jp "$RUN" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member3")].conditions[?(@.type=="Succeeded")].lastTransitionTime}')"
m1_started="$(jp "$RUN" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member1")].conditions[?(@.type=="Started")].lastTransitionTime}')"
if [[ "$m1_started" < "$m3_done" ]]; then
  fail "member1 started ($m1_started) before member3 finished ($m3_done)"
fi
log "ok: member3 finished at $m3_done, member1 started at $m1_started"
# The TimedWait of staging lasted its minute: canary started no earlier than 1m after staging
# finished (the stage's Progressing condition turned False when its wait began).
wait_start="$(jp "$RUN" '{.status.stagesStatus[0].conditions[?(@.type=="Progressing")].lastTransitionTime}')"
canary_start="$(jp "$RUN" '{.status.stagesStatus[1].startTime}')"
waited=$(($(date -d "$canary_start" +%s) - $(date -d "$wait_start" +%s)))
[ "$waited" -ge 59 ] || fail "canary started ${waited}s after staging finished; the TimedWait is 1m"
log "ok: canary started ${waited}s after staging finished (TimedWait 1m)"
expect_member_cms value2 value2 value2

step "The generated ClusterApprovalRequest is not approved yet"
# No APPROVALACCEPTED column (spec §14 row 3); the request is <run>-after-<stage> (row 2).
expect_table "$(kubectl get clusterapprovalrequest)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary||2m39s"

step "Approve the ClusterApprovalRequest with a json patch file"
cat << EOF > approval.json
"status": {
    "conditions": [
        {
            "lastTransitionTime": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
            "message": "lgtm",
            "observedGeneration": 1,
            "reason": "lgtm",
            "status": "True",
            "type": "Approved"
        }
    ]
}
EOF
# As written, the name is the pre-2025-12 one (spec §14 row 2): there is no such request.
out="$(run_fails kubectl patch clusterapprovalrequests example-run-canary --type='merge' --subresource=status --patch-file approval.json)"
expect_contains "old approval name (spec §14 row 2)" \
  'clusterapprovalrequests.placement.kubernetes-fleet.io "example-run-canary" not found' "$out"
expect_member_cms value2 value2 value2
out="$(run_ok kubectl patch clusterapprovalrequests example-run-after-canary --type='merge' --subresource=status --patch-file approval.json)"
expect_eq "approve" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-after-canary patched" "$out"

step "Verify that it's approved"
wait_until "the approval is accepted" \
  condition_is "clusterapprovalrequest example-run-after-canary" .status ApprovalAccepted True ApprovalRequestApprovalAccepted
expect_table "$(kubectl get clusterapprovalrequest)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary|True|3m35s"

step "The ClusterStagedUpdateRun now is able to proceed and complete"
wait_until "example-run succeeded" condition_is "$RUN" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get csur example-run)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run|example-placement|1|0|True|False|True|5m28s"
wait_until "example-placement is available" \
  condition_is "crp example-placement" .status ClusterResourcePlacementAvailable True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|True|1|8m55s"
# "The configmap test-cm should be deployed on all three member clusters, with latest data"
expect_member_cms value2 value2 value2
for m in "${MEMBERS[@]}"; do
  out="$(run_ok kubectl --context "$m" get cm test-cm -n test-namespace -o yaml)"
  expect_contains "test-cm on $m" "  key: value2" "$out"
  expect_contains "test-cm on $m" "  namespace: test-namespace" "$out"
done

# ---------------------------------------------------------------------------------------------
step "Deploy a second ClusterStagedUpdateRun to roll back to a previous version"
run_ok kubectl apply -f - <<EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run-2
spec:
  placementName: example-placement
  resourceSnapshotIndex: "0"
  stagedRolloutStrategyName: example-strategy
EOF
RUN2="csur example-run-2"
wait_until "example-run-2 is initialized" \
  condition_is "$RUN2" .status Initialized True UpdateRunInitializedSuccessfully
expect_table "$(kubectl get csur -A)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run|example-placement|1|0|True|False|True|13m" \
  "example-run-2|example-placement|0|0|True|||9s"
# Started explicitly, as above (spec §14 row 1).
run_ok kubectl patch csur example-run-2 --type='merge' -p '{"spec":{"state":"Run"}}'

step "After some time the ClusterApprovalRequest of the new run appears"
wait_until "example-run-2-after-canary exists" kubectl get clusterapprovalrequest example-run-2-after-canary
expect_table "$(kubectl get clusterapprovalrequest -A)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-2-after-canary|example-run-2|canary||75s" \
  "example-run-after-canary|example-run|canary|True|14m"
expect_member_cms value1 value1 value1

step "Approve the new request reusing approval.json"
out="$(run_fails kubectl patch clusterapprovalrequests example-run-2-canary --type='merge' --subresource=status --patch-file approval.json)"
expect_contains "old approval name (spec §14 row 2)" \
  'clusterapprovalrequests.placement.kubernetes-fleet.io "example-run-2-canary" not found' "$out"
run_ok kubectl patch clusterapprovalrequests example-run-2-after-canary --type='merge' --subresource=status --patch-file approval.json
wait_until "example-run-2 succeeded" condition_is "$RUN2" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get clusterapprovalrequest -A)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-2-after-canary|example-run-2|canary|True|2m7s" \
  "example-run-after-canary|example-run|canary|True|15m"
# "The configmap test-cm should now be deployed on all three member clusters, with the data
# reverted to value1"
expect_member_cms value1 value1 value1
wait_until "example-placement observes index 0" jp_is "crp example-placement" '{.status.observedResourceIndex}' 0
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|True|1|16m"

# ---------------------------------------------------------------------------------------------
step "Clean up resources"
# Delete the staged update runs — as written, the resource name has a typo.
out="$(run_fails kubectl delete clusterstagedupaterun example-run example-run-2)"
expect_contains "the document's typo" 'the server doesn'"'"'t have a resource type "clusterstagedupaterun"' "$out"
out="$(run_ok kubectl delete clusterstagedupdaterun example-run example-run-2)"
expect_contains "delete runs" 'clusterstagedupdaterun.placement.kubernetes-fleet.io "example-run-2" deleted' "$out"
# A deleted run takes its approval requests with it (spec §9.10).
wait_until "the approval requests are gone" none_left clusterapprovalrequests
# Delete the staged update strategy
out="$(run_ok kubectl delete clusterstagedupdatestrategy example-strategy)"
expect_eq "delete strategy" 'clusterstagedupdatestrategy.placement.kubernetes-fleet.io "example-strategy" deleted' "$out"
# Delete the cluster resource placement
out="$(run_ok kubectl delete clusterresourceplacement example-placement)"
expect_eq "delete crp" 'clusterresourceplacement.placement.kubernetes-fleet.io "example-placement" deleted' "$out"
# Its resources leave the members with it.
expect_member_cms "<absent>" "<absent>" "<absent>"
# Delete the test namespace (this will also delete the configmap)
out="$(run_ok kubectl delete namespace test-namespace)"
expect_eq "delete namespace" 'namespace "test-namespace" deleted' "$out"

step "seed 000 replayed"
