mod fleet_page;

pub use fleet_page::*;
