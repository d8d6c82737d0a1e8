//! Branch builds: what turns a push into a running Odoo. This module holds
//! the pure parts first (webhook verification and parsing, addon discovery,
//! Odoo's log format); the queue and the pipeline build on them.

pub mod github;
pub mod manifest;
pub mod odoo_log;
pub mod queue;
pub mod webhooks;
