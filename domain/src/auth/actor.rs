//! Who is acting, and from where: what every authorised operation and every
//! audit event needs to know about the caller.

use crate::types::{PlatformRole, UserId};

/// Facts about the HTTP request, recorded in the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    /// Authenticated by a personal access token (not a session): some
    /// operations (minting tokens) need a person at the console.
    pub via_token: bool,
    /// Authenticated by a token scoped to `/metrics`: nothing else accepts it.
    pub metrics_only: bool,
}

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub platform_role: Option<PlatformRole>,
    pub meta: RequestMeta,
}

impl Actor {
    pub fn administers_platform(&self) -> bool {
        self.platform_role.is_some_and(PlatformRole::administers_platform)
    }
}
