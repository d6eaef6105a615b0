//! The orchestration engine: kube-runtime controllers that drive placements, snapshots, bindings
//! and staged update runs on a hub (embedded or real). Decisions live in `app::fleet`; the
//! reconcilers here read, call the pure core, and write.
