//! Personal access tokens for the REST API.

mod create_token;
mod list_tokens;
mod revoke_token;

pub use create_token::*;
pub use list_tokens::*;
pub use revoke_token::*;
