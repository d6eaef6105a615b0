#!/usr/bin/env bash
# Override walkthrough (placement-extras §1), replayed with kubectl against a fresh fleetdeck: a
# ResourceOverride gives each member its own ConfigMap value through ${MEMBER-CLUSTER-NAME} and
# keeps the ConfigMap off member3 with a Delete rule, a ClusterResourceOverride of the placement
# annotates everything in the namespace with the cluster's name, and a staged update run rolls
# both out. Checked: the webhook's denial of a bad path,
# the override snapshots, the run's per-cluster override lists, the bindings' and the placement's
# Overridden conditions, and every member's objects.
source "$(dirname "$0")/lib.sh"

start_fleetdeck --kubelet-delay 1s

step "Workload and an External placement of it"
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
---
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
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
EOF
wait_until "example-placement is scheduled" \
  condition_is "crp example-placement" .status ClusterResourcePlacementScheduled True

step "The override webhook refuses a path outside labels and annotations"
out="$(run_fails kubectl apply -f - <<EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourceOverride
metadata:
  name: bad-cro
spec:
  clusterResourceSelectors:
    - group: ""
      kind: Namespace
      name: test-namespace
      version: v1
  policy:
    overrideRules:
      - clusterSelector:
          clusterSelectorTerms: []
        jsonPatchOverrides:
          - op: add
            path: /metadata/name
            value: renamed
EOF
)"
expect_eq "the webhook's denial" \
  'Error from server (Forbidden): error when creating "STDIN": admission webhook "fleet.clusterresourceoverride.validating" denied the request: invalid JSONPatchOverride {add /metadata/name {"renamed"}}: cannot override metadata fields except annotations and labels' \
  "$out"

step "A per-cluster value, a Delete rule on member3, and an annotation naming each cluster"
out="$(run_ok kubectl apply -f - <<EOF
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ResourceOverride
metadata:
  name: example-ro
  namespace: test-namespace
spec:
  resourceSelectors:
    - group: ""
      kind: ConfigMap
      name: test-cm
      version: v1
  policy:
    overrideRules:
      - clusterSelector:
          clusterSelectorTerms:
            - labelSelector:
                matchExpressions:
                  - key: kubernetes-fleet.io/member-name
                    operator: NotIn
                    values: [member3]
        jsonPatchOverrides:
          - op: replace
            path: /data/key
            value: "\${MEMBER-CLUSTER-NAME}-value"
      - clusterSelector:
          clusterSelectorTerms:
            - labelSelector:
                matchLabels:
                  kubernetes-fleet.io/member-name: member3
        overrideType: Delete
---
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterResourceOverride
metadata:
  name: example-cro
spec:
  placement:
    name: example-placement
  clusterResourceSelectors:
    - group: ""
      kind: Namespace
      name: test-namespace
      version: v1
  policy:
    overrideRules:
      - clusterSelector:
          clusterSelectorTerms: []
        jsonPatchOverrides:
          - op: add
            path: /metadata/annotations
            value:
              fleet.example/cluster: "\${MEMBER-CLUSTER-NAME}"
EOF
)"
expect_eq "apply the overrides" \
  "resourceoverride.placement.kubernetes-fleet.io/example-ro created
clusterresourceoverride.placement.kubernetes-fleet.io/example-cro created" "$out"

step "The overrides' snapshots"
wait_until "example-cro-0 exists" jp_is "clusterresourceoverridesnapshots example-cro-0" '{.metadata.name}' example-cro-0
wait_until "example-ro-0 exists" jp_is "resourceoverridesnapshots example-ro-0 -n test-namespace" '{.metadata.name}' example-ro-0
expect_jp "clusterresourceoverridesnapshots example-cro-0" \
  '{.metadata.labels.kubernetes-fleet\.io/parent-resource-override}|{.metadata.labels.kubernetes-fleet\.io/is-latest-snapshot}|{.metadata.labels.kubernetes-fleet\.io/override-index}' \
  "example-cro|true|0"
expect_jp "clusterresourceoverridesnapshots example-cro-0" '{.spec.overrideSpec.placement.name}' example-placement
expect_table "$(kubectl get resourceoverrides -n test-namespace)" "NAME AGE" "example-ro|*"

step "Roll out with a staged update run"
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

step "The run names the overrides it applied to each cluster"
RUN="csur example-run"
for m in member1 member2 member3; do
  cs=".status.stagesStatus[*].clusters[?(@.clusterName==\"$m\")]"
  expect_jp "$RUN" "{$cs.clusterResourceOverrideSnapshots}" '["example-cro-0"]'
  expect_jp "$RUN" "{$cs.resourceOverrideSnapshots}" '[{"name":"example-ro-0","namespace":"test-namespace"}]'
done

step "Each binding: its overrides and Overridden"
for m in member1 member2 member3; do
  b="$(kubectl get clusterresourcebindings -l kubernetes-fleet.io/parent-CRP=example-placement \
    -o jsonpath="{.items[?(@.spec.targetCluster==\"$m\")].metadata.name}")"
  expect_condition "clusterresourcebinding $b" .status Overridden True OverriddenSucceeded \
    "Successfully applied the override rules on the resources"
done

step "Every member's objects"
expect_member_cms "member1-value" "member2-value" "<absent>"
for m in member1 member2 member3; do
  expect_eq "the namespace's annotation on $m" "$m" \
    "$(member_value "$m" '{.metadata.annotations.fleet\.example/cluster}' 'ns test-namespace')"
done
expect_eq "test-cm's annotation on member1" "member1" \
  "$(member_value member1 '{.metadata.annotations.fleet\.example/cluster}' 'cm test-cm -n test-namespace')"

step "The placement's Overridden condition and per-cluster applicable overrides"
CRP="crp example-placement"
wait_until "the placement's Overridden is True" \
  condition_is "$CRP" .status ClusterResourcePlacementOverridden True OverriddenSucceeded
expect_condition "$CRP" .status ClusterResourcePlacementOverridden True OverriddenSucceeded \
  "The selected resources are successfully overridden in 3 cluster(s)"
PS='.status.placementStatuses[?(@.clusterName=="member3")]'
expect_jp "$CRP" "{$PS.applicableClusterResourceOverrides}" '["example-cro-0"]'
expect_jp "$CRP" "{$PS.applicableResourceOverrides}" '[{"name":"example-ro-0","namespace":"test-namespace"}]'

log "override walkthrough: all checks passed"
