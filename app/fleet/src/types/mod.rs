//! The object model every kind shares: objects, kinds, names, conditions, patches, Events.

pub mod condition;
pub mod event;
pub mod kind;
pub mod label_selector;
pub mod merge_patch;
pub mod names;
pub mod object;
pub mod selector_text;
pub mod yaml;
