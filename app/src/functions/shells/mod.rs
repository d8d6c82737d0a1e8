//! Shells: open one on a build, read sessions and transcripts; SSH keys.

mod add_ssh_key;
mod list_shells;
mod list_ssh_keys;
mod open_shell;
mod remove_ssh_key;
mod shell_transcript;
mod ssh_command;

pub use add_ssh_key::*;
pub use list_shells::*;
pub use list_ssh_keys::*;
pub use open_shell::*;
pub use remove_ssh_key::*;
pub use shell_transcript::*;
pub use ssh_command::*;
