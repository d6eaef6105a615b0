mod list;
mod post_note;

pub use list::*;
pub use post_note::*;

/// The longest note the dashboard accepts, in characters.
pub const MAX_NOTE_CHARS: usize = 280;

/// How many entries a page keeps on screen.
pub const VISIBLE_ENTRIES: usize = 50;
