//! The mail catcher: development and staging builds send real SMTP to
//! OdooOps with their environment's credentials; the messages are kept
//! byte-exact for the viewer and the API. Production is never caught.
//!
//! - [`smtp`]: the ESMTP server.
//! - [`store`]: credentials, retention, reads and deletes.
//! - [`writer`]: storing caught messages, many senders' in one commit.
//! - [`parse`]: MIME parsing that never fails a catch.
//! - [`search`]: the viewer's search syntax.
//! - [`console`]: the console's own mailbox, while no SMTP relay is configured.

pub mod console;
pub mod parse;
pub mod search;
pub mod smtp;
pub mod store;
pub mod writer;
