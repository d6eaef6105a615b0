//! How the update commands print, like `az`: JSON or YAML of the object, or an aligned table
//! (`-o table`), and the run's status tree (stages → groups → members).

use serde::Serialize;

use super::Output;
use app::fleet::upgrade::upgrade_run::UpdateStatus;
use app::fleet::{Gate, UpdateRun, UpdateStrategy};

pub(super) fn print<T: Serialize>(
    output: Output,
    value: &T,
    table: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&without_managed_fields(value)?)?
        ),
        Output::Yaml => print!(
            "{}",
            serde_saphyr::to_string(&without_managed_fields(value)?)?
        ),
        Output::Table => print!("{}", table()),
    }
    Ok(())
}

/// The object (or each of a list) without `metadata.managedFields`: field ownership is the
/// hub's bookkeeping, hidden as kubectl hides it unless asked.
fn without_managed_fields<T: Serialize>(value: &T) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(value)?;
    let strip = |o: &mut serde_json::Value| {
        if let Some(m) = o.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            m.remove("managedFields");
        }
    };
    match &mut v {
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
        o => strip(o),
    }
    Ok(v)
}

pub(super) fn state_name(s: &Option<UpdateStatus>) -> String {
    s.as_ref()
        .and_then(|s| s.state)
        .map(|s| format!("{s:?}"))
        .unwrap_or_else(|| "NotStarted".into())
}

pub(super) fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub(super) fn run_row(r: &UpdateRun) -> Vec<String> {
    let u = &r.spec.managed_cluster_update;
    vec![
        r.metadata.name.clone().unwrap_or_default(),
        state_name(&r.status.as_ref().and_then(|s| s.status.clone())),
        format!("{:?}", u.upgrade.type_),
        u.upgrade.kubernetes_version.clone().unwrap_or_default(),
        u.node_image_selection
            .as_ref()
            .map(|s| format!("{:?}", s.type_))
            .unwrap_or_else(|| "Latest".into()),
        r.spec.update_strategy_id.clone().unwrap_or_default(),
    ]
}

pub(super) const RUN_HEADER: [&str; 6] = [
    "Name",
    "State",
    "UpgradeType",
    "KubernetesVersion",
    "NodeImageSelection",
    "UpdateStrategy",
];

/// The status tree, one line per stage, group and member.
pub(super) fn tree(r: &UpdateRun) -> String {
    let mut rows = vec![vec![
        "Stage/Group/Member".to_string(),
        "State".into(),
        "Start".into(),
        "End".into(),
        "Message".into(),
    ]];
    let times = |s: &Option<UpdateStatus>| {
        (
            s.as_ref()
                .and_then(|s| s.start_time.clone())
                .unwrap_or_default(),
            s.as_ref()
                .and_then(|s| s.completed_time.clone())
                .unwrap_or_default(),
        )
    };
    let status = r.status.clone().unwrap_or_default();
    let (a, b) = times(&status.status);
    let run_error = status
        .status
        .as_ref()
        .and_then(|s| s.error.as_ref())
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_string();
    rows.push(vec![
        r.metadata.name.clone().unwrap_or_default(),
        state_name(&status.status),
        a,
        b,
        run_error,
    ]);
    for stage in status.stages.iter().flatten() {
        let (a, b) = times(&stage.status);
        rows.push(vec![
            format!("  {}", stage.name),
            state_name(&stage.status),
            a,
            b,
            String::new(),
        ]);
        for group in stage.groups.iter().flatten() {
            let (a, b) = times(&group.status);
            rows.push(vec![
                format!("    {}", group.name),
                state_name(&group.status),
                a,
                b,
                String::new(),
            ]);
            for m in group.members.iter().flatten() {
                let (a, b) = times(&m.status);
                rows.push(vec![
                    format!("      {}", m.name),
                    state_name(&m.status),
                    a,
                    b,
                    m.message.clone().unwrap_or_default(),
                ]);
            }
        }
        if let Some(w) = &stage.after_stage_wait_status {
            let (a, b) = times(&w.status);
            rows.push(vec![
                format!(
                    "    afterStageWait {}s",
                    w.wait_duration_in_seconds.unwrap_or(0)
                ),
                state_name(&w.status),
                a,
                b,
                String::new(),
            ]);
        }
    }
    columns(&rows)
}

pub(super) fn gate_table(list: &[Gate]) -> String {
    let mut rows = vec![[
        "Name",
        "Type",
        "State",
        "UpdateRun",
        "Stage",
        "Group",
        "Timing",
        "DisplayName",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for g in list {
        let t = &g.spec.target.update_run_properties;
        rows.push(vec![
            g.metadata.name.clone().unwrap_or_default(),
            format!("{:?}", g.spec.gate_type),
            format!("{:?}", g.spec.state),
            t.name.clone(),
            t.stage.clone().unwrap_or_default(),
            t.group.clone().unwrap_or_default(),
            format!("{:?}", t.timing),
            g.spec.display_name.clone().unwrap_or_default(),
        ]);
    }
    columns(&rows)
}

pub(super) fn strategy_table(list: &[UpdateStrategy]) -> String {
    let mut rows = vec![vec!["Name".to_string(), "Stages".into()]];
    for s in list {
        let stages: Vec<String> = s
            .spec
            .strategy
            .stages
            .iter()
            .map(|st| {
                let groups: Vec<&str> = st
                    .groups
                    .iter()
                    .flatten()
                    .map(|g| g.name.as_str())
                    .collect();
                format!("{}[{}]", st.name, groups.join(","))
            })
            .collect();
        rows.push(vec![
            s.metadata.name.clone().unwrap_or_default(),
            stages.join(" → "),
        ]);
    }
    columns(&rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::without_managed_fields;

    #[test]
    fn printed_objects_and_lists_leave_out_managed_fields() {
        let obj = json!({"metadata": {"name": "r1", "managedFields": [{"manager": "m"}]}});
        assert_eq!(
            without_managed_fields(&obj).unwrap(),
            json!({"metadata": {"name": "r1"}})
        );
        assert_eq!(
            without_managed_fields(&vec![obj.clone(), obj]).unwrap(),
            json!([{"metadata": {"name": "r1"}}, {"metadata": {"name": "r1"}}])
        );
    }
}
