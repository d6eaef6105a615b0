//! Properties of the step over random fleets, strategies and outcomes: the ceilings hold, stages
//! never overlap, counts add up, the step is deterministic, and a run whose every operation
//! succeeds completes with every member Completed.

use proptest::prelude::*;

use super::step::in_flight;
use super::test_world::Sim;
use super::{state_of, RunRef};
use crate::upgrade::fixtures::*;
use crate::upgrade::upgrade_run::{UpdateRunStatus, UpdateState};

/// `stages[s][g]` = number of members in group g of stage s; plus concurrency settings.
fn fleet_and_spec(shape: &[Vec<usize>], stage_cc: Option<usize>, group_cc: usize) -> Sim {
    let mut members = Vec::new();
    let mut stages = Vec::new();
    for (si, groups) in shape.iter().enumerate() {
        let names: Vec<String> = (0..groups.len()).map(|gi| format!("g{si}-{gi}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut st = stage(&format!("s{si}"), &refs);
        st.max_concurrency = stage_cc.map(|c| c.to_string());
        if let Some(gs) = st.groups.as_mut() {
            for (gi, g) in gs.iter_mut().enumerate() {
                let size = groups[gi];
                g.max_concurrency =
                    Some(group_cc.min(size).min(stage_cc.unwrap_or(50)).to_string());
                for mi in 0..size {
                    members.push(member(&format!("m{si}-{gi}-{mi}"), Some(&names[gi])));
                }
            }
        }
        stages.push(st);
    }
    Sim::new(with_stages(full("1.30.5"), stages), members)
}

fn check_invariants(st: &UpdateRunStatus) -> Result<(), TestCaseError> {
    let mut earlier_open = false;
    let mut run_failures = 0;
    for stage in st.stages.iter().flatten() {
        let groups = stage.groups.as_deref().unwrap_or_default();
        let mut stage_running = 0;
        let mut stage_failures = 0;
        for g in groups {
            let members = g.members.as_deref().unwrap_or_default();
            let running = members
                .iter()
                .filter(|m| in_flight(state_of(&m.status)))
                .count();
            prop_assert!(
                running as i32 <= g.max_concurrency.unwrap_or(1),
                "group {} over its ceiling",
                g.name
            );
            stage_running += running;
            let failed = members
                .iter()
                .filter(|m| state_of(&m.status) == UpdateState::Failed)
                .count() as i32;
            prop_assert_eq!(g.failure_count, Some(failed));
            stage_failures += failed;
            if earlier_open {
                prop_assert!(
                    members
                        .iter()
                        .all(|m| state_of(&m.status) == UpdateState::NotStarted),
                    "stage {} began before the one before it finished",
                    stage.name
                );
            }
        }
        prop_assert!(stage_running as i32 <= stage.max_concurrency.unwrap_or(50));
        prop_assert_eq!(stage.failure_count, Some(stage_failures));
        run_failures += stage_failures;
        earlier_open |= !super::is_done(state_of(&stage.status));
    }
    prop_assert_eq!(st.failure_count, Some(run_failures));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_runs_keep_the_rules(
        shape in prop::collection::vec(prop::collection::vec(1usize..4, 1..4), 1..4),
        stage_cc in prop::option::of(1usize..4),
        group_cc in 1usize..3,
        outcomes in prop::collection::vec(any::<bool>(), 64),
    ) {
        let mut sim = fleet_and_spec(&shape, stage_cc, group_cc);
        let all_succeed = outcomes.iter().all(|ok| *ok);
        sim.start();
        let mut k = 0;
        for _ in 0..200 {
            // Determinism: the same inputs give the same decision.
            let world = super::World { members: &sim.members, catalogue: &sim.catalogue, gates: &sim.gates };
            let run = RunRef { name: "run-1", uid: None };
            let a = super::step(run, &sim.spec, &sim.status, world, sim.now);
            let b = super::step(run, &sim.spec, &sim.status, world, sim.now);
            prop_assert_eq!(&a, &b);
            sim.step();
            check_invariants(&sim.status)?;
            let running: Vec<String> = sim.members.iter()
                .filter(|(_, m)| m.operation.as_ref().is_some_and(|o| o.state == crate::upgrade::member_view::OperationState::InProgress))
                .map(|(n, _)| n.clone())
                .collect();
            if running.is_empty() {
                break;
            }
            for n in running {
                sim.finish(&n, outcomes[k % outcomes.len()]);
                k += 1;
            }
        }
        let end = sim.run_state();
        prop_assert!(matches!(end, UpdateState::Completed | UpdateState::Failed), "ended {end:?}");
        if all_succeed {
            prop_assert_eq!(end, UpdateState::Completed);
            let every = sim.status.stages.iter().flatten()
                .flat_map(|s| s.groups.iter().flatten())
                .flat_map(|g| g.members.iter().flatten())
                .all(|m| state_of(&m.status) == UpdateState::Completed);
            prop_assert!(every);
        }
    }
}
