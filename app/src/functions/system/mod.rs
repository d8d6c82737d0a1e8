//! Installation status for the dashboard.

mod status;

pub use status::*;
