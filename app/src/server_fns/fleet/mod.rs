mod list_members;

pub use list_members::*;
