//! Promotions of staging builds to production, their approvals, and rollbacks.

mod approve_promotion;
mod list_promotions;
mod reject_promotion;
mod request_promotion;
mod rollback_production;

pub use approve_promotion::*;
pub use list_promotions::*;
pub use reject_promotion::*;
pub use request_promotion::*;
pub use rollback_production::*;
