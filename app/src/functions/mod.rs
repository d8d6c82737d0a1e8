//! Server functions, one per file, grouped by domain. Each one is thin:
//! authenticate ([`ssr::actor`]), then call the domain crate, which applies the
//! authorisation rules and runs in a row-level-security scoped transaction.

pub mod audit;
pub mod auth;
pub mod backups;
pub mod builds;
pub mod catalog;
pub mod console_mail;
pub mod fleet;
pub mod instances;
pub mod integrations;
pub mod mails;
pub mod monitoring;
pub mod platform;
pub mod projects;
pub mod promotions;
pub mod shells;
pub mod support;
pub mod system;
pub mod tenants;
pub mod tokens;
pub mod upgrades;
pub mod wizard;

#[cfg(feature = "ssr")]
pub mod ssr;
