//! Signing in and out, signing up, password resets.

mod get_me;
mod request_reset;
mod reset_password;
mod setup_required;
mod sign_in;
mod sign_out;
mod sign_up;
mod start;

pub use get_me::*;
pub use request_reset::*;
pub use reset_password::*;
pub use setup_required::*;
pub use sign_in::*;
pub use sign_out::*;
pub use sign_up::*;
pub use start::*;
