mod list_runs;

pub use list_runs::*;
