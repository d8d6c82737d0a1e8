//! The console's own mailbox (no SMTP relay configured): platform owners only.

mod get_console_mail;
mod list_console_mail;

pub use get_console_mail::*;
pub use list_console_mail::*;
