//! Tenants: list and create.

mod create_tenant;
mod list_tenants;

pub use create_tenant::*;
pub use list_tenants::*;
