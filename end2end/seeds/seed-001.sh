#!/usr/bin/env bash
# Seed 001 (shared/seeds/001_*.txt, the KubeFleet website markdown "How to Roll Out and Roll Back
# Changes in Stage", between 2025-11 and 2026-02) replayed with kubectl against a fresh fleetdeck:
# cluster-scoped Initialize → Run with before/after approvals and maxConcurrency, the omitted
# index, pause/resume and a rollback; then the namespaced ResourcePlacement / StagedUpdateRun flow
# with a Deployment and a Service. The document mixes old and new behaviour; where it shows the
# old, the script asserts today's (spec §14, row cited) and carries on the current way.
source "$(dirname "$0")/lib.sh"

start_fleetdeck --kubelet-delay 2s

RUN_HEADER="NAME PLACEMENT RESOURCE-SNAPSHOT-INDEX POLICY-SNAPSHOT-INDEX INITIALIZED PROGRESSING SUCCEEDED AGE"

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
wait_until "example-placement is scheduled" \
  condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|||8s"
expect_member_cms "<absent>" "<absent>" "<absent>"

# The strategy, applied before the document does: the snapshots below are taken by runs, and a
# run needs its strategy (applying it again further down prints "unchanged").
cat > strategy.yaml << EOF
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
      maxConcurrency: 1  # Update clusters sequentially in staging
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 2  # Update 2 canary clusters concurrently
      beforeStageTasks:
        - type: Approval  # Require approval before starting canary
      afterStageTasks:
        - type: Approval  # Require approval after canary completes
EOF

step "Check cluster resource snapshot versions"
# The document shows example-placement-0-snapshot; External placements get no automatic snapshots
# any more (spec §14 row 9). A run without an index takes it.
out="$(run_ok kubectl get clusterresourcesnapshots --show-labels)"
expect_eq "snapshots before any run (spec §14 row 9)" "No resources found" "$out"
run_ok kubectl apply -f strategy.yaml
capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 0
expect_table "$(kubectl get clusterresourcesnapshots --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|7m31s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0"

step "Modify the configmap with a new value value2 (kubectl edit)"
out="$(EDITOR="$(editor_replacing 'key: value1' 'key: value2')" run_ok kubectl edit cm test-cm -n test-namespace)"
expect_eq "kubectl edit" "configmap/test-cm edited" "$out"
out="$(run_ok kubectl get configmap test-cm -n test-namespace -o yaml)"
expect_contains "edited cm" "  key: value2" "$out"

# Snapshot 1 comes from a run too (spec §14 row 9).
capture_snapshot ClusterStagedUpdateRun "" example-placement example-strategy 1
expect_table "$(kubectl get clusterresourcesnapshots --show-labels)" \
  "NAME GEN AGE LABELS" \
  "example-placement-0-snapshot|1|17m|kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=0" \
  "example-placement-1-snapshot|1|2m2s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=example-placement,kubernetes-fleet.io/resource-index=1"
out="$(run_ok kubectl get clusterresourcesnapshots example-placement-1-snapshot -o yaml)"
expect_contains "snapshot apiVersion" "apiVersion: placement.kubernetes-fleet.io/v1" "$out"
SNAP="clusterresourcesnapshots example-placement-1-snapshot"
expect_json "$SNAP" .metadata.labels \
  '{"kubernetes-fleet.io/is-latest-snapshot":"true","kubernetes-fleet.io/parent-CRP":"example-placement","kubernetes-fleet.io/resource-index":"1"}'
expect_json "$SNAP" .spec.selectedResources '[
  {"apiVersion":"v1","kind":"Namespace","metadata":{"labels":{"kubernetes.io/metadata.name":"test-namespace"},"name":"test-namespace"},"spec":{"finalizers":["kubernetes"]}},
  {"apiVersion":"v1","data":{"key":"value2"},"kind":"ConfigMap","metadata":{"name":"test-cm","namespace":"test-namespace"}}]'

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
      maxConcurrency: 1  # Update clusters sequentially in staging
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 2  # Update 2 canary clusters concurrently
      beforeStageTasks:
        - type: Approval  # Require approval before starting canary
      afterStageTasks:
        - type: Approval  # Require approval after canary completes
EOF
)"
expect_eq "apply strategy (applied above already)" \
  "clusterstagedupdatestrategy.placement.kubernetes-fleet.io/example-strategy unchanged" "$out"

step "Deploy a ClusterStagedUpdateRun to rollout latest change (state Initialize)"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run
spec:
  placementName: example-placement
  resourceSnapshotIndex: "1"
  stagedRolloutStrategyName: example-strategy
  state: Initialize  # Initialize but don't start execution yet
EOF
RUN="csur example-run"
wait_until "example-run is initialized" \
  condition_is "$RUN" .status Initialized True UpdateRunInitializedSuccessfully
kubectl get csur example-run -o yaml >/dev/null # Review computed stages in status
expect_json "$RUN" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully"],
  "stages":[
    {"stage":"staging","conds":[],"clusters":[{"cluster":"member2","conds":[]}],"before":[],"after":[{"task":"TimedWait","conds":[]}]},
    {"stage":"canary","conds":[],"clusters":[{"cluster":"member3","conds":[]},{"cluster":"member1","conds":[]}],
     "before":[{"task":"Approval example-run-before-canary","conds":[]}],"after":[{"task":"Approval example-run-after-canary","conds":[]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":[],"clusters":[],"before":[],"after":[]}}'
expect_member_cms "<absent>" "<absent>" "<absent>"

step "Start the rollout by changing the state to Run"
out="$(run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}')"
expect_eq "patch" "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run patched" "$out"
wait_until "example-run waits for the staging TimedWait" \
  condition_is "$RUN" .status Progressing False UpdateRunWaiting
# The document's header says RESOURCE-SNAPSHOT / POLICY-SNAPSHOT and has no PROGRESSING: names
# from before 2025-02 (spec §14 row 4). Its run shows Progressing True; fleetdeck has updated
# member2 by now and waits for the TimedWait.
expect_table "$(kubectl get csur example-run)" "$RUN_HEADER" \
  "example-run|example-placement|1|0|True|False||44s"
expect_member_cms "<absent>" value2 "<absent>"

step "A more detailed look at the status"
wait_until "example-run-before-canary exists" kubectl get clusterapprovalrequest example-run-before-canary
wait_until "example-run waits for the before-stage approval" \
  jp_is "$RUN" '{.status.conditions[?(@.type=="Progressing")].message}' \
  "The updateRun is waiting for before-stage tasks in stage canary to complete"
expect_stamped "$RUN"
expect_jp "$RUN" '{.status.policyObservedClusterCount}' 3
expect_jp "$RUN" '{.status.policySnapshotIndexUsed}' 0
expect_json "$RUN" .status.stagedUpdateStrategySnapshot '{"stages":[
  {"afterStageTasks":[{"type":"TimedWait","waitTime":"1m0s"}],"labelSelector":{"matchLabels":{"environment":"staging"}},"maxConcurrency":1,"name":"staging"},
  {"afterStageTasks":[{"type":"Approval"}],"beforeStageTasks":[{"type":"Approval"}],"labelSelector":{"matchLabels":{"environment":"canary"}},"maxConcurrency":2,"name":"canary","sortingLabelKey":"order"}]}'
# Reasons as of today: the run's Progressing is never UpdateRunStarted (renamed 2025-04), the
# before-stage task says StageTaskApprovalRequestCreated (spec §14 row 6), the staging stage's
# Progressing says StageUpdatingSucceeded once done, and the request is named
# example-run-before-canary, not example-run-canary-before (row 2).
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

step "After stage staging completes, the canary stage requires approval before it starts"
# No APPROVALACCEPTED column (spec §14 row 3); <run>-before-<stage> names (row 2).
expect_table "$(kubectl get clusterapprovalrequest)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-before-canary|example-run|canary||15s"

step "Approve the before-stage task"
# As written, the JSON is unquoted (the shell's brace expansion splits it into six arguments) and
# the name is one that never existed (spec §14 row 2): the command fails and approves nothing.
# shellcheck disable=SC1083,SC2046 # the document's command, copied as written
out="$(run_fails kubectl patch clusterapprovalrequests example-run-canary-before --type=merge -p {"status":{"conditions":[{"type":"Approved","status":"True","reason":"lgtm","message":"approved to start canary","lastTransitionTime":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'","observedGeneration":1}]}} --subresource=status)"
log "as written: $out"
expect_jp "clusterapprovalrequest example-run-before-canary" '{.status.conditions}' ""
# The same approval, quoted, on today's name.
out="$(run_ok kubectl patch clusterapprovalrequests example-run-before-canary --type=merge -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"lgtm","message":"approved to start canary","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}' --subresource=status)"
expect_eq "approve before" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-before-canary patched" "$out"

step "Wait for the canary stage to finish cluster updates; it then waits for the after-stage Approval"
wait_until "example-run-after-canary exists" kubectl get clusterapprovalrequest example-run-after-canary
# The document lists only the after-stage request; the accepted before-stage one is still there.
expect_table "$(kubectl get clusterapprovalrequest)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary||2m2s" \
  "example-run-before-canary|example-run|canary|True|3m15s"
# "With maxConcurrency: 2, it updates up to 2 clusters concurrently": both canary clusters were
# started before either finished (pods are ready after --kubelet-delay 2s).
expect_member_cms value2 value2 value2
m3_done="$(jp "$RUN" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member3")].conditions[?(@.type=="Succeeded")].lastTransitionTime}')"
m1_started="$(jp "$RUN" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member1")].conditions[?(@.type=="Started")].lastTransitionTime}')"
m3_started="$(jp "$RUN" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member3")].conditions[?(@.type=="Started")].lastTransitionTime}')"
expect_eq "member1 started with member3 (maxConcurrency 2)" "$m3_started" "$m1_started"
log "member3 started $m3_started, done $m3_done; member1 started $m1_started"

step "Approve the after-stage task to complete the rollout"
# shellcheck disable=SC1083,SC2046 # the document's command, copied as written
out="$(run_fails kubectl patch clusterapprovalrequests example-run-canary-after --type=merge -p {"status":{"conditions":[{"type":"Approved","status":"True","reason":"lgtm","message":"canary successful","lastTransitionTime":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'","observedGeneration":1}]}} --subresource=status)"
log "as written: $out"
# "Alternatively, you can approve using a json patch file"
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
out="$(run_fails kubectl patch clusterapprovalrequests example-run-canary-after --type='merge' --subresource=status --patch-file approval.json)"
expect_contains "the document's name (spec §14 row 2)" \
  'clusterapprovalrequests.placement.kubernetes-fleet.io "example-run-canary-after" not found' "$out"
expect_jp "clusterapprovalrequest example-run-after-canary" '{.status.conditions}' ""
out="$(run_ok kubectl patch clusterapprovalrequests example-run-after-canary --type='merge' --subresource=status --patch-file approval.json)"
expect_eq "approve after" "clusterapprovalrequest.placement.kubernetes-fleet.io/example-run-after-canary patched" "$out"

step "Verify both approvals are accepted"
expect_table "$(kubectl get clusterapprovalrequest)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "example-run-after-canary|example-run|canary|True|2m30s" \
  "example-run-before-canary|example-run|canary|True|3m15s"
wait_until "example-run succeeded" condition_is "$RUN" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get csur example-run)" "$RUN_HEADER" \
  "example-run|example-placement|1|0|True|False|True|4m22s"
wait_until "example-placement is available" \
  condition_is "crp example-placement" .status ClusterResourcePlacementAvailable True
expect_table "$(kubectl get crp example-placement)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "example-placement|1|True|1|True|1|134m"
# "The configmap test-cm should be deployed on all 3 member clusters, with latest data"
expect_member_cms value2 value2 value2

# ---------------------------------------------------------------------------------------------
step "Using Latest Snapshot Automatically"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run-latest
spec:
  placementName: example-placement
  # resourceSnapshotIndex omitted - uses latest automatically
  stagedRolloutStrategyName: example-strategy
  state: Run  # Start immediately
EOF
LATEST="csur example-run-latest"
wait_until "example-run-latest is initialized" \
  condition_is "$LATEST" .status Initialized True UpdateRunInitializedSuccessfully
# Nothing changed since snapshot 1, so the latest is used and no snapshot is added (spec §14 row 10).
out="$(run_ok kubectl get csur example-run-latest -o jsonpath='{.status.resourceSnapshotIndexUsed}')"
expect_eq "example-run-latest used index" 1 "$out"
expect_eq "snapshots" "example-placement-0-snapshot example-placement-1-snapshot" \
  "$(kubectl get clusterresourcesnapshots -o jsonpath='{.items[*].metadata.name}')"

step "Pausing and Resuming a Rollout"
# Pause the rollout — as written it targets example-run, which has already finished: a finished
# run stays finished whatever its state (spec §9.2 step 8).
out="$(run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Stop"}}')"
expect_eq "pause example-run" "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run patched" "$out"
expect_jp "$RUN" '{.spec.state}' Stop
# The document's header again has the old column names (spec §14 row 4).
expect_table "$(kubectl get csur example-run)" "$RUN_HEADER" \
  "example-run|example-placement|1|0|True|False|True|8m"
run_ok kubectl patch csur example-run --type='merge' -p '{"spec":{"state":"Run"}}'
expect_table "$(kubectl get csur example-run)" "$RUN_HEADER" \
  "example-run|example-placement|1|0|True|False|True|8m"
# The in-progress rollout is example-run-latest: pause and resume it the same way.
wait_until "example-run-latest waits for the staging TimedWait" \
  condition_is "$LATEST" .status Progressing False UpdateRunWaiting
run_ok kubectl patch csur example-run-latest --type='merge' -p '{"spec":{"state":"Stop"}}'
wait_until "example-run-latest is stopped" condition_is "$LATEST" .status Progressing False UpdateRunStopped
expect_table "$(kubectl get csur example-run-latest)" "$RUN_HEADER" \
  "example-run-latest|example-placement||0|True|False||8m"
run_ok kubectl patch csur example-run-latest --type='merge' -p '{"spec":{"state":"Run"}}'
# "The rollout continues from where it was paused."
wait_until "example-run-latest-before-canary exists" kubectl get clusterapprovalrequest example-run-latest-before-canary
run_ok kubectl patch clusterapprovalrequests example-run-latest-before-canary --type=merge --subresource=status \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"lgtm","message":"approved to start canary","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}'
wait_until "example-run-latest-after-canary exists" kubectl get clusterapprovalrequest example-run-latest-after-canary
run_ok kubectl patch clusterapprovalrequests example-run-latest-after-canary --type='merge' --subresource=status --patch-file approval.json
wait_until "example-run-latest succeeded" condition_is "$LATEST" .status Succeeded True UpdateRunSucceeded
expect_member_cms value2 value2 value2

# ---------------------------------------------------------------------------------------------
step "Deploy a second ClusterStagedUpdateRun to rollback to a previous version"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run-2
spec:
  placementName: example-placement
  resourceSnapshotIndex: "0"  # Rollback to previous version
  stagedRolloutStrategyName: example-strategy
  state: Run  # Start rollback immediately
EOF
RUN2="csur example-run-2"
# "Following the same step as deploying the first updateRun"
wait_until "example-run-2-before-canary exists" kubectl get clusterapprovalrequest example-run-2-before-canary
expect_member_cms value2 value1 value2
run_ok kubectl patch clusterapprovalrequests example-run-2-before-canary --type=merge --subresource=status \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"lgtm","message":"approved to start canary","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}'
wait_until "example-run-2-after-canary exists" kubectl get clusterapprovalrequest example-run-2-after-canary
run_ok kubectl patch clusterapprovalrequests example-run-2-after-canary --type='merge' --subresource=status --patch-file approval.json
wait_until "example-run-2 succeeded" condition_is "$RUN2" .status Succeeded True UpdateRunSucceeded

# "Complete status shown as below" — with today's completion record: Progressing False /
# UpdateRunSucceeded for the run and StageUpdatingSucceeded for the deletion stage (spec §14 row
# 8), StageTaskApprovalRequest* task reasons (row 6), <run>-before/after-<stage> names (row 2). The
# document's strategy snapshot lacks maxConcurrency and beforeStageTasks; the run copies the
# strategy as it is.
expect_jp "$RUN2" '{.metadata.generation}' 1
expect_stamped "$RUN2"
expect_jp "$RUN2" '{.status.policyObservedClusterCount}' 3
expect_jp "$RUN2" '{.status.policySnapshotIndexUsed}' 0
expect_jp "$RUN2" '{.status.resourceSnapshotIndexUsed}' 0
expect_json "$RUN2" progress '{"conds":["Initialized=True/UpdateRunInitializedSuccessfully","Progressing=False/UpdateRunSucceeded","Succeeded=True/UpdateRunSucceeded"],
  "stages":[
    {"stage":"staging","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member2","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[],"after":[{"task":"TimedWait","conds":["WaitTimeElapsed=True/AfterStageTaskWaitTimeElapsed"]}]},
    {"stage":"canary","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],
     "clusters":[{"cluster":"member3","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]},
                 {"cluster":"member1","conds":["Started=True/ClusterUpdatingStarted","Succeeded=True/ClusterUpdatingSucceeded"]}],
     "before":[{"task":"Approval example-run-2-before-canary","conds":["ApprovalRequestApproved=True/StageTaskApprovalRequestApproved","ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}],
     "after":[{"task":"Approval example-run-2-after-canary","conds":["ApprovalRequestApproved=True/StageTaskApprovalRequestApproved","ApprovalRequestCreated=True/StageTaskApprovalRequestCreated"]}]}],
  "deletion":{"stage":"kubernetes-fleet.io/deleteStage","conds":["Progressing=False/StageUpdatingSucceeded","Succeeded=True/StageUpdatingSucceeded"],"clusters":[],"before":[],"after":[]}}'
# "The configmap test-cm should be updated on all 3 member clusters, with old data"
expect_member_cms value1 value1 value1

# ---------------------------------------------------------------------------------------------
step "Setup for Namespace-Scoped Updates"
out="$(run_ok kubectl create ns my-app-namespace)"
expect_eq "create ns" "namespace/my-app-namespace created" "$out"
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

step "Deploy a StagedUpdateStrategy"
# As written, the stage names have hyphens, which the API rejects (spec §14 row 11).
out="$(run_fails kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateStrategy
metadata:
  name: app-rollout-strategy
  namespace: my-app-namespace
spec:
  stages:
    - name: dev-clusters
      labelSelector:
        matchLabels:
          environment: staging
      maxConcurrency: 2  # Update 2 dev clusters concurrently
      afterStageTasks:
        - type: TimedWait
          waitTime: 30s
    - name: prod-clusters
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 1  # Sequential production updates
      beforeStageTasks:
        - type: Approval  # Require approval before production
      afterStageTasks:
        - type: Approval  # Require approval after production
EOF
)"
expect_contains "stage names with hyphens are rejected (spec §14 row 11)" \
  'The StagedUpdateStrategy "app-rollout-strategy" is invalid' "$out"
expect_contains "the pattern is named" "spec.stages[0].name: Invalid value: \"dev-clusters\": spec.stages[0].name in body should match '^[a-z0-9]+\$'" "$out"
expect_contains "both stages are named" "spec.stages[1].name: Invalid value: \"prod-clusters\"" "$out"
# The newer page (seed 002) names them dev and prod; the rest as written.
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
      maxConcurrency: 2  # Update 2 dev clusters concurrently
      afterStageTasks:
        - type: TimedWait
          waitTime: 30s
    - name: prod
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 1  # Sequential production updates
      beforeStageTasks:
        - type: Approval  # Require approval before production
      afterStageTasks:
        - type: Approval  # Require approval after production
EOF

step "Check namespace-scoped resource snapshots"
# None yet (spec §14 row 9): a run takes snapshot 0 of nginx:1.20.
out="$(run_ok kubectl get resourcesnapshots -n my-app-namespace)"
expect_eq "resourcesnapshots before any run" "No resources found in my-app-namespace namespace." "$out"
capture_snapshot StagedUpdateRun my-app-namespace web-app-placement app-rollout-strategy 0
expect_table "$(kubectl get resourcesnapshots -n my-app-namespace --show-labels)" \
  "NAME GEN AGE LABELS" \
  "web-app-placement-0-snapshot|1|63s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=web-app-placement,kubernetes-fleet.io/resource-index=0"

step "Update the deployment to a new version"
# As written, the container name is wrong: `kubectl create deployment --image=nginx:1.20` names
# the container after the image, nginx (seed 002 fixes the command to nginx=nginx:1.21).
out="$(run_fails kubectl set image deployment/web-app web-app=nginx:1.21 -n my-app-namespace)"
expect_contains "container web-app does not exist" 'unable to find container named "web-app"' "$out"
out="$(run_ok kubectl set image deployment/web-app nginx=nginx:1.21 -n my-app-namespace)"
expect_eq "set image" "deployment.apps/web-app image updated" "$out"
capture_snapshot StagedUpdateRun my-app-namespace web-app-placement app-rollout-strategy 1
expect_table "$(kubectl get resourcesnapshots -n my-app-namespace --show-labels)" \
  "NAME GEN AGE LABELS" \
  "web-app-placement-0-snapshot|1|263s|kubernetes-fleet.io/is-latest-snapshot=false,kubernetes-fleet.io/parent-CRP=web-app-placement,kubernetes-fleet.io/resource-index=0" \
  "web-app-placement-1-snapshot|1|23s|kubernetes-fleet.io/is-latest-snapshot=true,kubernetes-fleet.io/parent-CRP=web-app-placement,kubernetes-fleet.io/resource-index=1"

step "Deploy a StagedUpdateRun"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateRun
metadata:
  name: web-app-rollout-v1-21
  namespace: my-app-namespace
spec:
  placementName: web-app-placement
  resourceSnapshotIndex: "1"  # Latest snapshot with nginx:1.21
  stagedRolloutStrategyName: app-rollout-strategy
  state: Run  # Start rollout immediately
EOF
SUR="sur web-app-rollout-v1-21 -n my-app-namespace"
wait_until "web-app-rollout-v1-21 is initialized" \
  condition_is "$SUR" .status Initialized True UpdateRunInitializedSuccessfully
out="$(run_ok kubectl describe sur web-app-rollout-v1-21 -n my-app-namespace)"
expect_contains "describe sur" "Placement Name:                web-app-placement" "$out"
expect_contains "describe sur: condition" "UpdateRunInitializedSuccessfully" "$out"

step "Monitor: the dev stage cannot apply without the namespace on the members"
# This page never places my-app-namespace itself, and a ResourcePlacement cannot select a
# namespace: member2 refuses the Deployment and the Service, and the run waits on member2.
RP="rp web-app-placement -n my-app-namespace"
PS2='.status.placementStatuses[?(@.clusterName=="member2")]'
wait_until "member2 reports the missing namespace" \
  jp_is "$RP" "{$PS2.failedPlacements[*].condition.reason}" "ManifestApplyFailed ManifestApplyFailed"
expect_contains "why member2 failed" 'namespaces "my-app-namespace" not found' \
  "$(jp "$RP" "{$PS2.failedPlacements[0].condition.message}")"
expect_jp "$RP" "{$PS2.failedPlacements[*].kind}" "Deployment Service"
expect_condition "$SUR" .status Progressing True UpdateRunProgressing
expect_member_images "<absent>" "<absent>" "<absent>"
# The newer page (seed 002) places the namespace first with a NamespaceOnly CRP; the run picks
# up from there.
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

step "Monitor: the prod stage requires approval before starting"
wait_until "web-app-rollout-v1-21-before-prod exists" \
  kubectl get approvalrequests web-app-rollout-v1-21-before-prod -n my-app-namespace
expect_member_images "<absent>" nginx:1.21 "<absent>"
# Named <run>-before-<stage> (spec §14 row 2: not web-app-rollout-v1-21-prod-clusters-before);
# no APPROVALACCEPTED column (row 3).
expect_table "$(kubectl get approvalrequests -n my-app-namespace)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "web-app-rollout-v1-21-before-prod|web-app-rollout-v1-21|prod||15s"

step "Approve the before-stage task to start production rollout"
out="$(run_fails kubectl patch approvalrequests web-app-rollout-v1-21-prod-clusters-before -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved to start prod"}]}}' \
  --subresource=status)"
expect_contains "the document's name (spec §14 row 2)" \
  'approvalrequests.placement.kubernetes-fleet.io "web-app-rollout-v1-21-prod-clusters-before" not found' "$out"
# The document's patch on today's name is still refused: a condition needs lastTransitionTime
# (metav1.Condition's schema requires it, on any apiserver).
AR="approvalrequest web-app-rollout-v1-21-before-prod -n my-app-namespace"
out="$(run_fails kubectl patch approvalrequests web-app-rollout-v1-21-before-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved to start prod"}]}}' \
  --subresource=status)"
expect_contains "a condition without lastTransitionTime is invalid" 'The ApprovalRequest "web-app-rollout-v1-21-before-prod" is invalid' "$out"
expect_contains "the missing field is named" "lastTransitionTime" "$out"
# With the time but still without observedGeneration, the approval is stored and ignored (spec
# §14 row 12): the APPROVED column shows True, the request is not accepted, and prod waits.
out="$(run_ok kubectl patch approvalrequests web-app-rollout-v1-21-before-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved to start prod","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"}]}}' \
  --subresource=status)"
expect_eq "approve without observedGeneration" \
  "approvalrequest.placement.kubernetes-fleet.io/web-app-rollout-v1-21-before-prod patched" "$out"
# The engine answers approval events within milliseconds; give it ample time to (wrongly) accept.
sleep 5
expect_json "$AR" '[.status.conditions[].type]' '["Approved"]'
expect_condition "$SUR" .status Progressing False UpdateRunWaiting \
  "The updateRun is waiting for before-stage tasks in stage prod to complete"
expect_table "$(kubectl get approvalrequests -n my-app-namespace)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "web-app-rollout-v1-21-before-prod|web-app-rollout-v1-21|prod|True|20s"
expect_member_images "<absent>" nginx:1.21 "<absent>"
# With the request's generation it counts.
run_ok kubectl patch approvalrequests web-app-rollout-v1-21-before-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved to start prod","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}' \
  --subresource=status
wait_until "the approval is accepted" condition_is "$AR" .status ApprovalAccepted True ApprovalRequestApprovalAccepted

step "After production clusters complete updates, approve the after-stage task"
wait_until "web-app-rollout-v1-21-after-prod exists" \
  kubectl get approvalrequests web-app-rollout-v1-21-after-prod -n my-app-namespace
expect_table "$(kubectl get approvalrequests -n my-app-namespace)" \
  "NAME UPDATE-RUN STAGE APPROVED AGE" \
  "web-app-rollout-v1-21-after-prod|web-app-rollout-v1-21|prod||2m" \
  "web-app-rollout-v1-21-before-prod|web-app-rollout-v1-21|prod|True|3m"
expect_member_images nginx:1.21 nginx:1.21 nginx:1.21
# maxConcurrency 1 with sortingLabelKey order: member3 finished before member1 started.
expect_json "$SUR" '[.status.stagesStatus[1].clusters[].clusterName]' '["member3","member1"]'
m3_done="$(jp "$SUR" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member3")].conditions[?(@.type=="Succeeded")].lastTransitionTime}')"
m1_started="$(jp "$SUR" '{.status.stagesStatus[1].clusters[?(@.clusterName=="member1")].conditions[?(@.type=="Started")].lastTransitionTime}')"
if [[ "$m1_started" < "$m3_done" ]]; then
  fail "member1 started ($m1_started) before member3 finished ($m3_done) with maxConcurrency 1"
fi
out="$(run_fails kubectl patch approvalrequests web-app-rollout-v1-21-prod-clusters-after -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"prod rollout successful"}]}}' \
  --subresource=status)"
expect_contains "the document's name (spec §14 row 2)" 'not found' "$out"
run_ok kubectl patch approvalrequests web-app-rollout-v1-21-after-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"prod rollout successful","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}' \
  --subresource=status

step "Verify the rollout completion"
wait_until "web-app-rollout-v1-21 succeeded" condition_is "$SUR" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get sur web-app-rollout-v1-21 -n my-app-namespace)" "$RUN_HEADER" \
  "web-app-rollout-v1-21|web-app-placement|1|0|True|False|True|4m"
wait_until "web-app-placement is available" \
  condition_is "rp web-app-placement -n my-app-namespace" .status ResourcePlacementAvailable True
expect_table "$(kubectl get resourceplacement web-app-placement -n my-app-namespace)" \
  "NAME GEN SCHEDULED SCHEDULED-GEN AVAILABLE AVAILABLE-GEN AGE" \
  "web-app-placement|1|True|1|True|1|10m"
expect_member_images nginx:1.21 nginx:1.21 nginx:1.21
wait_until "the web-app Service is on every member" \
  members_are "svc web-app -n my-app-namespace" '{.spec.ports[0].port}' 80 80 80

step "Rollback with namespace-scoped staged updates"
run_ok kubectl apply -f - << EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateRun
metadata:
  name: web-app-rollback-v1-20
  namespace: my-app-namespace
spec:
  placementName: web-app-placement
  resourceSnapshotIndex: "0"  # Previous snapshot with nginx:1.20
  stagedRolloutStrategyName: app-rollout-strategy
  state: Run  # Start rollback immediately
EOF
# "Follow the same monitoring and approval process as above to complete the rollback."
RB="sur web-app-rollback-v1-20 -n my-app-namespace"
wait_until "web-app-rollback-v1-20-before-prod exists" \
  kubectl get approvalrequests web-app-rollback-v1-20-before-prod -n my-app-namespace
expect_member_images nginx:1.21 nginx:1.20 nginx:1.21
run_ok kubectl patch approvalrequests web-app-rollback-v1-20-before-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"approved to start prod","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}' \
  --subresource=status
wait_until "web-app-rollback-v1-20-after-prod exists" \
  kubectl get approvalrequests web-app-rollback-v1-20-after-prod -n my-app-namespace
run_ok kubectl patch approvalrequests web-app-rollback-v1-20-after-prod -n my-app-namespace --type='merge' \
  -p '{"status":{"conditions":[{"type":"Approved","status":"True","reason":"approved","message":"prod rollout successful","lastTransitionTime":"'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'","observedGeneration":1}]}}' \
  --subresource=status
wait_until "web-app-rollback-v1-20 succeeded" condition_is "$RB" .status Succeeded True UpdateRunSucceeded
expect_table "$(kubectl get sur -n my-app-namespace)" "$RUN_HEADER" \
  "web-app-rollback-v1-20|web-app-placement|0|0|True|False|True|1m" \
  "web-app-rollout-v1-21|web-app-placement|1|0|True|False|True|5m"
expect_member_images nginx:1.20 nginx:1.20 nginx:1.20
expect_stamped "$RB"

step "seed 001 replayed"
