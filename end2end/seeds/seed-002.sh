#!/usr/bin/env bash
# Seed 002 (shared/seeds/002_*.txt, the KubeFleet website page "How to Roll Out and Roll Back
# Changes in Stage", newest version) replayed with kubectl against a fresh fleetdeck: the
# cluster-scoped flow (Initialize → Run, before/after approvals, maxConcurrency 30%, omitted index,
# pause/resume, rollback), then the namespaced ResourcePlacement / StagedUpdateRun flow with a
# Deployment and a Service. The page lost its YAML indentation; the manifests below are the ones
# recovered in app/tests/fixtures/seeds/002_*.yaml. Each output the page shows is checked (headers
# exactly, values without AGE); where the page shows older behaviour, the newer one is asserted
# with the row of spec §14 that says so.
source "$(dirname "$0")/lib.sh"

start_fleetdeck --kubelet-delay 2s

# ---------------------------------------------------------------------------------------------
step "Setup for Cluster-Scoped Updates"
out="$(run_ok kubectl create ns test-namespace)"
expect_eq "create ns" "namespace/test-namespace created" "$out"
out="$(run_ok kubectl create cm test-cm --from-literal=key=value1 -n test-namespace)"
expect_eq "create cm" "configmap/test-cm created" "$out"

out="$(run_ok kubectl apply -f - << EOF
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

# "All clusters should be scheduled ... The CRP is not AVAILABLE yet."
wait_until "example-placement is scheduled" \
  condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|||8s"
# Nothing is on the members yet.
expect_member_cms "<absent>" "<absent>" "<absent>"

step "Resource Snapshot Versions: none exist yet for an External placement"
out="$(run_ok kubectl get clusterresourcesnapshots -l kubernetes-fleet.io/parent-CRP=example-placement)"
expect_eq "snapshots of example-placement" "No resources found" "$out"

# ---------------------------------------------------------------------------------------------
step "Deploy a ClusterStagedUpdateStrategy"
out="$(run_ok kubectl apply -f - << EOF
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
      maxConcurrency: 30% # Update clusters sequentially in staging, 30% of 1 clusters is 0.3, we usually round down but if value is less than 1 we set maxConcurrency to 1
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 2 # Update 2 canary clusters concurrently
      beforeStageTasks:
        - type: Approval # Require approval before starting canary
      afterStageTasks:
        - type: Approval # Require approval after canary completes
EOF
)"
expect_eq "apply strategy" "clusterstagedupdatestrategy.placement.kubernetes-fleet.io/example-strategy created" "$out"

step "Deploy a ClusterStagedUpdateRun (state Initialize, index omitted)"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run
spec:
  placementName: example-placement
  # resourceSnapshotIndex omitted - system uses the latest snapshot (creating one if it does not already exist)
  stagedRolloutStrategyName: example-strategy
  state: Initialize # Initialize but don't start execution yet
EOF

wait_until "example-run is initialized" \
  condition_is "csur example-run" .status Initialized True UpdateRunInitializedSuccessfully
# kubectl get csur example-run -o yaml  # Review computed stages in status
kubectl get csur example-run -o yaml >/dev/null
RUN="csur example-run"
expect_jp "$RUN" '{.metadata.generation}' 1
expect_jp "$RUN" '{.spec.resourceSnapshotIndex}' ""
expect_jp "$RUN" '{.spec.state}' Initialize
expect_json "$RUN" .status.appliedStrategy \
  '{"comparisonOption":"PartialComparison","type":"ClientSideApply","whenToApply":"Always","whenToTakeOver":"Always"}'
expect_condition "$RUN" .status Initialized True UpdateRunInitializedSuccessfully "The UpdateRun initialized successfully"
expect_jp "$RUN" '{.status.policyObservedClusterCount}' 3
expect_jp "$RUN" '{.status.policySnapshotIndexUsed}' 0
expect_jp "$RUN" '{.status.resourceSnapshotIndexUsed}' 0 # System created snapshot-0 during initialization
# The strategy is copied verbatim: maxConcurrency stays 30% (spec §14 row 13; the page's later
# listing shows 1, which is only the effective value).
expect_json "$RUN" .status.stagedUpdateStrategySnapshot '{"stages":[
  {"afterStageTasks":[{"type":"TimedWait","waitTime":"1m0s"}],"labelSelector":{"matchLabels":{"environment":"staging"}},"maxConcurrency":"30%","name":"staging"},
  {"afterStageTasks":[{"type":"Approval"}],"beforeStageTasks":[{"type":"Approval"}],"labelSelector":{"matchLabels":{"environment":"canary"}},"maxConcurrency":2,"name":"canary","sortingLabelKey":"order"}]}'
# The page's clusters are kind-cluster-2 / kind-cluster-3, kind-cluster-1: its fleet was kind
# clusters with the same labels as member2 / member3, member1 (order=1 before order=2).
expect_json "$RUN" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully"],
  "stages":[
    {"stage":"staging","conds":[],"clusters":[{"cluster":"member2","conds":[]}],"before":[],"after":[{"task":"TimedWait","conds":[]}]},
    {"stage":"canary","conds":[],"clusters":[{"cluster":"member3","conds":[]},{"cluster":"member1","conds":[]}],
     "before":[{"task":"Approval example-run-before-canary","conds":[]}],"after":[{"task":"Approval example-run-after-canary","conds":[]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":[],"clusters":[],"before":[],"after":[]}}'
# Initialize computes the plan and touches nothing.
expect_member_cms "<absent>" "<absent>" "<absent>"

step "Start the rollout: state Run"
out="$(run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}')"
expect_eq "patch state" "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run patched" "$out"
expect_jp "$RUN" '{.metadata.generation}' 2 # state changed from Initialize -> Run

# The page catches the run while Progressing is True; fleetdeck's event-driven engine updates
# member2 within milliseconds, so the lasting state is the staging stage's TimedWait (Progressing
# False, UpdateRunWaiting). The index column is empty because the spec field is (spec §14 row 5;
# the page prints 0, the used index is status.resourceSnapshotIndexUsed).
wait_until "example-run waits for the staging TimedWait" \
  condition_is "$RUN" .status Progressing False UpdateRunWaiting
expect_jp "$RUN" '{.status.conditions[?(@.type=="Progressing")].message}' \
  "The updateRun is waiting for after-stage tasks in stage staging to complete"
expect_table "$(kubectl get csur example-run)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run|example-placement||0|True|False||62s"
# Staging (member2) first: only member2 has the resources while the wait runs.
expect_member_cms "<absent>" value1 "<absent>"

step "After stage staging completes, the canary stage requires approval before it starts"
wait_until "example-run-before-canary exists" kubectl get clusterapprovalrequest example-run-before-canary
wait_until "example-run waits for the before-stage approval" \
  jp_is "$RUN" '{.status.conditions[?(@.type=="Progressing")].message}' \
  "The updateRun is waiting for before-stage tasks in stage canary to complete"
# "A more detailed look at the status": generation 2 everywhere, staging done, canary waiting.
expect_stamped "$RUN"
expect_json "$RUN" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunWaiting"],
  "stages":[
    {"stage":"staging","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member2","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[],"after":[{"task":"TimedWait","conds":["WaitTimeElapsed=True/AfterStageTaskWaitTimeElapsed"]}]},
    {"stage":"canary","conds":["Progressing=False/StageUpdatingWaiting"],
     "clusters":[{"cluster":"member3","conds":[]},{"cluster":"member1","conds":[]}],
     "before":[{"task":"Approval example-run-before-canary","conds":["ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}],
     "after":[{"task":"Approval example-run-after-canary","conds":[]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":[],"clusters":[],"before":[],"after":[]}}'
expect_jp "$RUN" '{.status.stagesStatus[1].conditions[?(@.type=="Progressing")].message}' \
  "Not all before-stage tasks are completed, waiting for approval"
# The page's status shows maxConcurrency 1 here; the snapshot keeps 30% (spec §14 row 13).
expect_jp "$RUN" '{.status.stagedUpdateStrategySnapshot.stages[0].maxConcurrency}' "30%"
expect_member_cms "<absent>" value1 "<absent>"

expect_table "$(kubectl get clusterapprovalrequest -A)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-before-canary|example-run|canary||6m55s"
expect_json "clusterapprovalrequest example-run-before-canary" '{labels: .metadata.labels, spec: .spec}' \
  '{"labels":{"kubernetes-fleet.io/isLatestUpdateRunApproval":"true","kubernetes-fleet.io/targetUpdateRun":"example-run",
    "kubernetes-fleet.io/targetUpdatingStage":"canary","kubernetes-fleet.io/taskType":"beforeStage"},
    "spec":{"parentStageRollout":"example-run","targetStage":"canary"}}'

step "Approve the before-stage task"
# shellcheck disable=SC2046 # the page's quoting, copied as written
out="$(run_ok kubectl patch clusterapprovalrequests example-run-before-canary --type='merge' \
-p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'$(date -u +"%Y-%m-%dT%H:%M:%SZ")'","observedGeneration":1}]}}' \
--subresource=status)"
expect_eq "approve before" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-before-canary patched" "$out"

step "Wait for the canary stage to finish; it then waits for the after-stage Approval"
wait_until "example-run-after-canary exists" kubectl get clusterapprovalrequest example-run-after-canary
expect_table "$(kubectl get clusterapprovalrequest -A)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary||3s" \
  "example-run-before-canary|example-run|canary|True|15m"
expect_condition "clusterapprovalrequest example-run-before-canary" .status ApprovalAccepted True \
  ApprovalRequestApprovalAccepted "The approval request has been approved and cannot be reverted"
# With maxConcurrency 2 both canary clusters were updated.
expect_member_cms value1 value1 value1
expect_jp "$RUN" '{.status.stagesStatus[1].conditions[?(@.type=="Progressing")].reason}' StageUpdatingWaiting

step "Approve the after-stage task to complete the rollout"
# shellcheck disable=SC2046 # the page's quoting, copied as written
out="$(run_ok kubectl patch clusterapprovalrequests example-run-after-canary --type='merge' \
-p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'$(date -u +"%Y-%m-%dT%H:%M:%SZ")'","observedGeneration":1}]}}' \
--subresource=status)"
expect_eq "approve after" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-after-canary patched" "$out"

# "Alternatively, you can approve using a json patch file" — the same approval again, as written.
cat << EOF > approval.json
"status": {
"conditions": [
{
"lastTransitionTime": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
"message": "approved",
"observedGeneration": 1,
"reason": "approved",
"status": "True",
"type": "Approved"
}
]
}
EOF
out="$(run_ok kubectl patch clusterapprovalrequests example-run-after-canary --type='merge' --subresource=status --patch-file approval.json)"
expect_contains "approve after with approval.json" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-after-canary patched" "$out"

step "Verify both approvals are accepted; the run completes"
expect_table "$(kubectl get clusterapprovalrequest -A)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary|True|2m12s" \
  "example-run-before-canary|example-run|canary|True|17m"
wait_until "example-run succeeded" condition_is "$RUN" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get csur example-run)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run|example-placement||0|True|False|True|20m"
wait_until "example-placement is available" \
  condition_is "crp example-placement" .status ClusterResourcePlacementAvailable True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|True|1|36m"
# "The configmap test-cm should be deployed on all 3 member clusters: data: key: value1"
expect_member_cms value1 value1 value1

# "You can verify the snapshot was created"
expect_table "$(kubectl get clusterresourcesnapshots -l kubernetes-fleet.io/parent-CRP=example-placement)" \
  "NAME GEN AGE" \
  "example-placement-0-snapshot|1|5m"

# ---------------------------------------------------------------------------------------------
step "Rolling Out a New Version"
out="$(run_ok kubectl patch configmap test-cm -n test-namespace -p '{"data":{"key":"value2"}}')"
expect_eq "patch cm" "configmap/test-cm patched" "$out"
# An edit on the hub reaches no member and makes no snapshot by itself (External placement).
expect_table "$(kubectl get clusterresourcesnapshots -l kubernetes-fleet.io/parent-CRP=example-placement)" \
  "NAME GEN AGE" \
  "example-placement-0-snapshot|1|5m"

run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run-latest
spec:
  placementName: example-placement
  # resourceSnapshotIndex omitted - creates new snapshot with updated resources
  stagedRolloutStrategyName: example-strategy
  state: Run # Start immediately
EOF
LATEST="csur example-run-latest"
wait_until "example-run-latest is initialized" \
  condition_is "$LATEST" .status Initialized True UpdateRunInitializedSuccessfully
out="$(run_ok kubectl get csur example-run-latest -o jsonpath='{.status.resourceSnapshotIndexUsed}')"
expect_eq "example-run-latest used index" 1 "$out"
expect_table "$(kubectl get clusterresourcesnapshots -l kubernetes-fleet.io/parent-CRP=example-placement --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|25m|kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0" \
  "example-placement-1-snapshot|1|5m|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=1"

step "Pausing and Resuming a Rollout"
# Staging gets the new data first.
expect_member_cms value1 value2 value1
# Pause the rollout
out="$(run_ok kubectl patch csur example-run-latest --type='merge' -p '{"spec":{"state":"Stop"}}')"
expect_eq "pause" "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run-latest patched" "$out"
wait_until "example-run-latest is stopped" condition_is "$LATEST" .status Progressing False UpdateRunStopped
expect_jp "$LATEST" '{.status.conditions[?(@.type=="Progressing")].message}' "The update run has been stopped"
# The page's header says RESOURCE-SNAPSHOT / POLICY-SNAPSHOT and its index cell 1: today's
# columns are the -INDEX ones (spec §14 row 4) and the cell shows the empty spec field (row 5).
expect_table "$(kubectl get csur example-run-latest)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run-latest|example-placement||0|True|False||8m"
# Resume the rollout
out="$(run_ok kubectl patch csur example-run-latest --type='merge' -p '{"spec":{"state":"Run"}}')"
expect_eq "resume" "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run-latest patched" "$out"

# "The rollout continues from where it was paused": the page moves on; the resumed run is taken
# to completion here with the same approvals as the first run, so that the rollback below starts
# from value2 everywhere.
wait_until "example-run-latest-before-canary exists" kubectl get clusterapprovalrequest example-run-latest-before-canary
expect_json "$LATEST" '[.status.stagesStatus[0] | conds, (.clusters[] | conds)]' \
  '[["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]]'
expect_member_cms value1 value2 value1
run_ok kubectl patch clusterapprovalrequests example-run-latest-before-canary --type=merge --subresource=status \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}'
wait_until "example-run-latest-after-canary exists" kubectl get clusterapprovalrequest example-run-latest-after-canary
run_ok kubectl patch clusterapprovalrequests example-run-latest-after-canary --type='merge' --subresource=status --patch-file approval.json
wait_until "example-run-latest succeeded" condition_is "$LATEST" .status Succeeded True UpdateRunSucceeded
expect_member_cms value2 value2 value2
expect_stamped "$LATEST"

# ---------------------------------------------------------------------------------------------
step "Rollback to a Previous Version"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run-rollback
spec:
  placementName: example-placement
  resourceSnapshotIndex: "0" # Rollback to example-placement-0-snapshot (value1)
  stagedRolloutStrategyName: example-strategy
  state: Run # Start rollback immediately
EOF
ROLLBACK="csur example-run-rollback"
# "Following the same approval steps as deploying the first updateRun"
wait_until "example-run-rollback-before-canary exists" kubectl get clusterapprovalrequest example-run-rollback-before-canary
expect_member_cms value2 value1 value2
# shellcheck disable=SC2046 # the page's quoting, copied as written
run_ok kubectl patch clusterapprovalrequests example-run-rollback-before-canary --type='merge' \
-p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'$(date -u +"%Y-%m-%dT%H:%M:%SZ")'","observedGeneration":1}]}}' \
--subresource=status
wait_until "example-run-rollback-after-canary exists" kubectl get clusterapprovalrequest example-run-rollback-after-canary
# shellcheck disable=SC2046 # the page's quoting, copied as written
run_ok kubectl patch clusterapprovalrequests example-run-rollback-after-canary --type='merge' \
-p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'$(date -u +"%Y-%m-%dT%H:%M:%SZ")'","observedGeneration":1}]}}' \
--subresource=status
wait_until "example-run-rollback succeeded" condition_is "$ROLLBACK" .status Succeeded True UpdateRunSucceeded

# "Complete status shown below" (the page names it example-run-2; it is the rollback run).
expect_jp "$ROLLBACK" '{.metadata.generation}' 1
expect_stamped "$ROLLBACK"
expect_jp "$ROLLBACK" '{.status.resourceSnapshotIndexUsed}' 0
expect_jp "$ROLLBACK" '{.status.policySnapshotIndexUsed}' 0
expect_jp "$ROLLBACK" '{.status.policyObservedClusterCount}' 3
expect_json "$ROLLBACK" .status.appliedStrategy \
  '{"comparisonOption":"PartialComparison","type":"ClientSideApply","whenToApply":"Always","whenToTakeOver":"Always"}'
expect_json "$ROLLBACK" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunSucceeded","Succeeded=True/UpdateRunSucceeded"],
  "stages":[
    {"stage":"staging","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member2","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[],"after":[{"task":"TimedWait","conds":["WaitTimeElapsed=True/AfterStageTaskWaitTimeElapsed"]}]},
    {"stage":"canary","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member3","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]},
                 {"cluster":"member1","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[{"task":"Approval example-run-rollback-before-canary","conds":["ApprovalRequestApproved=True/StageTaskApprovalRequestApproved","ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}],
     "after":[{"task":"Approval example-run-rollback-after-canary","conds":["ApprovalRequestApproved=True/StageTaskApprovalRequestApproved","ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],"clusters":[],"before":[],"after":[]}}'
expect_jp "$ROLLBACK" '{.status.stagedUpdateStrategySnapshot.stages[0].maxConcurrency}' "30%" # spec §14 row 13
expect_table "$(kubectl get csur example-run-rollback)" \
  "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
  "example-run-rollback|example-placement|0|0|True|False|True|3m"
# "The configmap test-cm should be updated on all 3 member clusters, with old data"
expect_member_cms value1 value1 value1
wait_until "example-placement observes index 0 everywhere" \
  jp_is "crp example-placement" '{.status.observedResourceIndex}' 0
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|True|1|40m"
# Snapshot 1 stays the latest (spec §10.4 step 5).
expect_jp "clusterresourcesnapshots example-placement-1-snapshot" \
  '{.metadata.labels.kubernetes-fleet\.io/is-latest-snapshot}' true

# ---------------------------------------------------------------------------------------------
step "Setup for Namespace-Scoped Updates"
out="$(run_ok kubectl create ns my-app-namespace)"
expect_eq "create ns" "namespace/my-app-namespace created" "$out"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourcePlacement
metadata:
  name: ns-only-crp
spec:
  resourceSelectors:
    - group: ""
      kind: Namespace
      name: my-app-namespace
      version: v1
      selectionScope: NamespaceOnly
  policy:
    placementType: PickAll
  strategy:
    type: RollingUpdate
EOF
# The namespace (and only the namespace) reaches every member.
wait_until "my-app-namespace is on every member" \
  members_are "ns my-app-namespace" '{.metadata.name}' my-app-namespace my-app-namespace my-app-namespace

out="$(run_ok kubectl create deployment web-app --image=nginx:1.20 --port=80 -n my-app-namespace)"
expect_eq "create deployment" "deployment.apps/web-app created" "$out"
out="$(run_ok kubectl expose deployment web-app --port=80 --target-port=80 -n my-app-namespace)"
expect_eq "expose" "service/web-app exposed" "$out"

out="$(run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ResourcePlacement
metadata:
  name: web-app-placement
  namespace: my-app-namespace
spec:
  resourceSelectors:
    - group: "apps"
      kind: Deployment
      name: web-app
      version: v1
    - group: ""
      kind: Service
      name: web-app
      version: v1
  policy:
    placementType: PickAll
  strategy:
    type: External # enables namespace-scoped staged updates
EOF
)"
expect_eq "apply rp" "resourceplacement.placement.kubernetes-fleet.io/web-app-placement created" "$out"
expect_member_images "<absent>" "<absent>" "<absent>"

step "Resource Snapshot Versions (Namespace-Scoped): none yet"
out="$(run_ok kubectl get resourcesnapshots -n my-app-namespace -l kubernetes-fleet.io/parent-CRP=web-app-placement)"
expect_eq "resourcesnapshots of web-app-placement" "No resources found in my-app-namespace namespace." "$out"

step "Deploy a StagedUpdateStrategy"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateStrategy
metadata:
  name: app-rollout-strategy
  namespace: my-app-namespace
spec:
  stages:
    - name: dev
      labelSelector:
        matchLabels:
          environment: staging
      maxConcurrency: 2 # Update 2 dev clusters concurrently
      afterStageTasks:
        - type: TimedWait
          waitTime: 30s
    - name: prod
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 1 # Sequential production updates
      beforeStageTasks:
        - type: Approval # Require approval before production
      afterStageTasks:
        - type: Approval # Require approval after production
EOF

# approve_ns NAME: the page's namespaced approval, as written.
approve_ns() {
  # shellcheck disable=SC2046 # the page's quoting, copied as written
  kubectl patch approvalrequests "$1" -n my-app-namespace --type='merge' \
-p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved","lastTransitionTime":"'$(date -u +"%Y-%m-%dT%H:%M:%SZ")'","observedGeneration":1}]}}' \
--subresource=status
}

# ns_rollout RUN INDEX-COLUMN IMAGE-BEFORE IMAGE-AFTER: the page's "Monitor namespace-scoped staged
# rollout" steps for one run: dev (member2) first, then approval, prod member3 then member1 one at
# a time (maxConcurrency 1, sortingLabelKey order), then the after-stage approval.
ns_rollout() {
  local run="$1" index_col="$2" before="$3" after="$4"
  local res="sur $run -n my-app-namespace"
  wait_until "$run waits for the dev TimedWait or the prod approval" \
    condition_is "$res" .status Progressing False UpdateRunWaiting
  expect_table "$(kubectl get sur "$run" -n my-app-namespace)" \
    "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
    "$run|web-app-placement|$index_col|0|True|False||5s"
  expect_member_images "$before" "$after" "$before"

  # "Wait for the first stage to complete. The prod before stage requires approval before starting"
  wait_until "$run-before-prod exists" kubectl get approvalrequests "$run-before-prod" -n my-app-namespace
  # The page shows its first run's request alone; requests of the earlier runs (approved) are
  # listed too when a later run follows "the same process".
  local -a rows=()
  local other
  for other in $(kubectl get approvalrequests -n my-app-namespace -o jsonpath='{.items[*].metadata.name}'); do
    case "$other" in
    "$run"-*) ;;
    *) rows+=("$other|${other%-*-prod}|prod|True|1m") ;;
    esac
  done
  rows+=("$run-before-prod|$run|prod||2s")
  mapfile -t rows < <(printf '%s\n' "${rows[@]}" | LC_ALL=C sort)
  expect_table "$(kubectl get approvalrequests -n my-app-namespace)" \
    "NAME UPDATE-RUN STAGE APPROVED AGE" \
    "${rows[@]}"
  expect_member_images "$before" "$after" "$before"
  out="$(run_ok approve_ns "$run-before-prod")"
  expect_eq "approve $run-before-prod" "approvalrequest.placement.kubernetes-fleet.io/$run-before-prod patched" "$out"

  # "After production clusters complete updates, approve the after-stage task"
  wait_until "$run-after-prod exists" kubectl get approvalrequests "$run-after-prod" -n my-app-namespace
  expect_table "$(kubectl get approvalrequests -n my-app-namespace -l kubernetes-fleet.io/targetUpdateRun="$run")" \
    "NAME UPDATE-RUN STAGE APPROVED AGE" \
    "$run-after-prod|$run|prod||18s" \
    "$run-before-prod|$run|prod|True|2m22s"
  expect_member_images "$after" "$after" "$after"
  # member3 (order=1) finished before member1 (order=2) started.
  local m3_done m1_started
  m3_done="$(jp "$res" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member3")].conditions[?(@.type=="Succeeded")].lastTransitionTime}')"
  m1_started="$(jp "$res" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member1")].conditions[?(@.type=="Started")].lastTransitionTime}')"
  expect_json "$res" '[.status.stagesStatus[1].clusters[].clusterName]' '["member3","member1"]'
  if [[ "$m1_started" < "$m3_done" ]]; then
    fail "member1 started ($m1_started) before member3 finished ($m3_done) with maxConcurrency 1"
  fi
  log "ok: member3 done at $m3_done, member1 started at $m1_started"
  out="$(run_ok approve_ns "$run-after-prod")"
  expect_eq "approve $run-after-prod" "approvalrequest.placement.kubernetes-fleet.io/$run-after-prod patched" "$out"

  # "Verify the rollout completion"
  wait_until "$run succeeded" condition_is "$res" .status Succeeded True UpdateRunSucceeded
  expect_table "$(kubectl get sur "$run" -n my-app-namespace)" \
    "NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE" \
    "$run|web-app-placement|$index_col|0|True|False|True|3m"
  expect_stamped "$res"
  wait_until "web-app-placement is available" \
    condition_is "rp web-app-placement -n my-app-namespace" .status ResourcePlacementAvailable True
  expect_table "$(kubectl get resourceplacement web-app-placement -n my-app-namespace)" \
    "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
    "web-app-placement|1|True|1|True|1|10m"
  expect_member_images "$after" "$after" "$after"
  wait_until "the web-app Service is on every member" \
    members_are "svc web-app -n my-app-namespace" '{.spec.ports[0].port}' 80 80 80
}

step "Deploy a StagedUpdateRun to Rollout Resources"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateRun
metadata:
  name: web-app-rollout-v1-20
  namespace: my-app-namespace
spec:
  placementName: web-app-placement
  # resourceSnapshotIndex omitted - system creates snapshot during initialization
  stagedRolloutStrategyName: app-rollout-strategy
  state: Run # Start rollout immediately
EOF
ns_rollout web-app-rollout-v1-20 "" "<absent>" nginx:1.20
expect_jp "sur web-app-rollout-v1-20 -n my-app-namespace" '{.status.resourceSnapshotIndexUsed}' 0
expect_json "resourcesnapshots web-app-placement-0-snapshot -n my-app-namespace" \
  '[.spec.selectedResources[] | {kind, name: .metadata.name, image: .spec.template.spec.containers[0].image?}]' \
  '[{"kind":"Deployment","name":"web-app","image":"nginx:1.20"},{"kind":"Service","name":"web-app","image":null}]'

step "Rolling Out a New Version (Namespace-Scoped)"
out="$(run_ok kubectl set image deployment/web-app nginx=nginx:1.21 -n my-app-namespace)"
expect_eq "set image" "deployment.apps/web-app image updated" "$out"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateRun
metadata:
  name: web-app-rollout-v1-21
  namespace: my-app-namespace
spec:
  placementName: web-app-placement
  # resourceSnapshotIndex omitted - creates new snapshot with updated deployment
  stagedRolloutStrategyName: app-rollout-strategy
  state: Run
EOF
ns_rollout web-app-rollout-v1-21 "" nginx:1.20 nginx:1.21
out="$(run_ok kubectl get sur web-app-rollout-v1-21 -n my-app-namespace -o jsonpath='{.status.resourceSnapshotIndexUsed}')"
expect_eq "web-app-rollout-v1-21 used index" 1 "$out"
expect_table "$(kubectl get resourcesnapshots -n my-app-namespace -l kubernetes-fleet.io/parent-CRP=web-app-placement --show-labels)" \
  "NAME GEN AGE LABELS" \
  "web-app-placement-0-snapshot|1|30m|kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=web-app-placement,kubernetes-fleet.io/resource-index=0" \
  "web-app-placement-1-snapshot|1|10m|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=web-app-placement,kubernetes-fleet.io/resource-index=1"

step "Rollback with Namespace-Scoped Staged Updates"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateRun
metadata:
  name: web-app-rollback-v1-20
  namespace: my-app-namespace
spec:
  placementName: web-app-placement
  resourceSnapshotIndex: "0" # Rollback to web-app-placement-0-snapshot (nginx:1.20)
  stagedRolloutStrategyName: app-rollout-strategy
  state: Run # Start rollback immediately
EOF
# "Follow the same monitoring and approval process as above to complete the rollback."
ns_rollout web-app-rollback-v1-20 0 nginx:1.21 nginx:1.20

step "seed 002 replayed"
