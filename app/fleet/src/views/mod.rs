//! What the dashboard shows of fleet objects: member rows, run rows, run detail, approvals inbox, the
//! strategy editor's form and plan preview.

pub mod approval_view;
pub mod attribution;
pub mod member_view;
pub mod permission_view;
pub mod placement_view;
pub mod pod_trouble;
pub mod profile_view;
pub mod run_detail;
pub mod run_event;
pub mod run_view;
pub mod strategy_form;
pub mod strategy_preview;
pub mod upgrade_view;
