#!/usr/bin/env bash
# ReportDiff walkthrough (placement-extras §2.6), replayed with kubectl against a fresh fleetdeck:
# member1 already holds test-namespace and a test-cm of its own, an External placement with
# `applyStrategy.type: ReportDiff` is rolled out by a staged update run, and the run succeeds
# while nothing is written to any member. Checked: the bindings' and the placement's
# DiffReported conditions, each cluster's diffedPlacements, and every member's objects.
source "$(dirname "$0")/lib.sh"

start_fleetdeck --kubelet-delay 1s

step "member1 has its own test-namespace and test-cm before fleetdeck places anything"
run_ok kubectl --context member1 create ns test-namespace >/dev/null
run_ok kubectl --context member1 create cm test-cm --from-literal=key=member1-own -n test-namespace >/dev/null

step "The hub's workload and an External ReportDiff placement of it"
run_ok kubectl create ns test-namespace >/dev/null
run_ok kubectl create cm test-cm --from-literal=key=value1 -n test-namespace >/dev/null
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
    applyStrategy:
      type: ReportDiff
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata:
  name: example-strategy
spec:
  stages:
    - name: all
      labelSelector: {}
EOF
wait_until "example-placement is scheduled" \
  condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True

step "A staged update run completes: DiffReported counts as success"
run_ok kubectl apply -f - <<EOF >/dev/null
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateRun
metadata:
  name: example-run
spec:
  placementName: example-placement
  stagedRolloutStrategyName: example-strategy
  state: Run
EOF
wait_until "example-run succeeded" \
  condition_is "csur example-run" .status Succeeded True UpdateRunSucceeded

step "Each binding reports its diff and has no Applied or Available"
for m in member1 member2 member3; do
  b="$(kubectl get clusterresourcebindings -l kubernetes-fleet.io/parent-CRP=example-placement \
    -o jsonpath="{.items[?(@.spec.targetCluster==\"$m\")].metadata.name}")"
  expect_condition "clusterresourcebinding $b" .status DiffReported True AllWorkHaveDiffReported \
    "All corresponding work objects have reported diff"
  expect_json "clusterresourcebinding $b" '[.status.conditions[].type]' \
    '["RolloutStarted","Overridden","WorkSynchronized","DiffReported"]'
done

step "The placement's DiffReported and each cluster's diffedPlacements"
CRP="crp example-placement"
wait_until "the placement's DiffReported is True" \
  condition_is "$CRP" .status ClusterResourcePlacementDiffReported True DiffReportingCompleted
expect_condition "$CRP" .status ClusterResourcePlacementDiffReported True DiffReportingCompleted \
  "Diff reporting in 3 cluster(s) has been completed"
expect_json "$CRP" '[.status.placementStatuses[] | select(.clusterName == "member1") | .diffedPlacements[] | {kind, name, targetClusterObservedGeneration, observedDiffs}]' '[
  {"kind":"ConfigMap","name":"test-cm","targetClusterObservedGeneration":0,
   "observedDiffs":[{"path":"/data/key","valueInHub":"value1","valueInMember":"member1-own"}]}]'
expect_json "$CRP" '[.status.placementStatuses[] | select(.clusterName == "member2") | .diffedPlacements[] | {kind, targetClusterObservedGeneration, observedDiffs}]' '[
  {"kind":"Namespace","targetClusterObservedGeneration":null,"observedDiffs":[{"path":"/","valueInHub":"(the whole object)"}]},
  {"kind":"ConfigMap","targetClusterObservedGeneration":null,"observedDiffs":[{"path":"/","valueInHub":"(the whole object)"}]}]'

step "Nothing was written to any member"
expect_member_cms "member1-own" "<absent>" "<absent>"
expect_eq "member1's test-cm stays unowned" "" \
  "$(member_value member1 '{.metadata.labels.fleetdeck\.dev/applied-by}' 'cm test-cm -n test-namespace')"
expect_eq "member2 has no test-namespace" "<absent>" "$(member_value member2 '{.metadata.name}' 'ns test-namespace')"

log "report-diff walkthrough: all checks passed"
