//! Reusable UI pieces.

pub mod forms;
pub mod layout;
