//! Tenants: list and create; invitations in (tenant admins invite an address)
//! and their answers (the invitee accepts or declines).

mod answer_invitation;
mod create_tenant;
mod invite_member;
mod list_invitations;
mod list_tenants;

pub use answer_invitation::*;
pub use create_tenant::*;
pub use invite_member::*;
pub use list_invitations::*;
pub use list_tenants::*;
