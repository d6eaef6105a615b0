mod approve;
mod list_approvals;

pub use approve::*;
pub use list_approvals::*;
