use super::*;

fn write<'a>(verb: &'a str, resource: &'a str, subresource: &'a str) -> PersonWrite<'a> {
    PersonWrite {
        user: "alma",
        verb,
        group: GROUP,
        resource,
        subresource,
        name: "r1-before-canary",
    }
}

fn approval(approved: bool, approved_by: Option<&str>) -> Written {
    Written::Approval {
        run: "r1".into(),
        stage: "canary".into(),
        approved,
        approved_by: approved_by.map(str::to_string),
    }
}

#[test]
fn an_approval_with_kubectl_names_the_approver_on_the_request_and_the_run() {
    let w = write("patch", "clusterapprovalrequests", "status");
    let a = attribute(&w, &approval(true, None)).expect("attributed");
    assert_eq!(a.reason, "Approved");
    assert_eq!(
        a.message,
        "alma approved r1-before-canary (stage canary) with kubectl"
    );
    assert_eq!(a.approved_by.as_deref(), Some("alma"));
    assert_eq!(a.also_on_run.as_deref(), Some("r1"));
    // Namespaced requests the same; update (PUT) as patch.
    let w = write("update", "approvalrequests", "status");
    assert!(attribute(&w, &approval(true, None)).is_some());
}

#[test]
fn a_status_write_that_does_not_approve_or_was_already_attributed_records_nothing() {
    let w = write("patch", "clusterapprovalrequests", "status");
    assert_eq!(attribute(&w, &approval(false, None)), None);
    assert_eq!(attribute(&w, &approval(true, Some("vera"))), None);
    // The request's own spec, or creating one, is not an approval.
    let spec = write("patch", "clusterapprovalrequests", "");
    assert_eq!(subject(&spec), None);
    let create = write("create", "clusterapprovalrequests", "status");
    assert_eq!(subject(&create), None);
}

#[test]
fn run_writes_say_what_the_person_did() {
    let mut w = write("patch", "clusterstagedupdateruns", "");
    w.name = "r1";
    let stop = attribute(&w, &Written::Run(Some(UpdateRunState::Stop))).expect("stop");
    assert_eq!(
        (stop.reason, stop.action, stop.message.as_str()),
        (
            "StopRequested",
            "Stop",
            "alma set it to Stop with kubectl (run r1)"
        )
    );
    let run = attribute(&w, &Written::Run(Some(UpdateRunState::Run))).expect("run");
    assert_eq!(run.reason, "RunRequested");
    w.verb = "create";
    let created = attribute(&w, &Written::Run(Some(UpdateRunState::Initialize))).expect("create");
    assert_eq!(
        created.message,
        "alma created run r1 with kubectl (state Initialize)"
    );
    w.verb = "delete";
    let deleted = attribute(&w, &Written::Run(None)).expect("delete");
    assert_eq!(
        (deleted.reason, deleted.message.as_str()),
        ("DeleteRequested", "alma deleted run r1 with kubectl")
    );
    assert_eq!(deleted.approved_by, None);
}

#[test]
fn other_kinds_groups_and_the_runs_status_are_not_attributed() {
    let mut w = write("patch", "clusterstagedupdateruns", "status");
    assert_eq!(subject(&w), None);
    w.subresource = "";
    w.group = "apps";
    assert_eq!(subject(&w), None);
    let cm = PersonWrite {
        user: "alma",
        verb: "patch",
        group: "",
        resource: "configmaps",
        subresource: "",
        name: "x",
    };
    assert_eq!(attribute(&cm, &Written::Run(None)), None);
}
