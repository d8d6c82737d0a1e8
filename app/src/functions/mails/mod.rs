//! Mails caught from development and staging environments.

mod delete_mails;
mod get_mail;
mod list_mails;

pub use delete_mails::*;
pub use get_mail::*;
pub use list_mails::*;
