//! The OdooOps control plane, without any UI.
//!
//! Why a separate crate: server functions in `app` and the REST API and CLI in
//! `server` must call the same rules, and those rules must be testable without
//! a browser or an HTTP stack.
//!
//! # Layout
//! - [`types`]: parsed newtypes (slugs, emails, branch names and patterns, roles).
//!   They compile to WASM too, so forms validate with the same rules in the browser.
//! - [`wire`]: the serializable types that cross the wire (server functions, REST).
//! - [`error`]: the domain error, with a stable code and an HTTP status.
//! - `db` (server): the embedded PostgreSQL cluster, pools, migrations and
//!   row-level-security scoped transactions.
//! - `access` (server): the caller's rights on a project, resolved once and asked at every entry point.
//! - `auth` (server): passwords, sessions, personal access tokens, throttling.
//! - `accounts`, `tenants`, `projects`, `audit` (server): the operations.
//! - `runtime`, `engine` (server): workloads on Docker or Docker Swarm, and the Docker client both use.
//! - `builds` (server): branch builds: webhooks, addon discovery, Odoo logs.
//! - `catalog` (server): the module catalog (OCA-layout repositories, mirrored and read) and bundles.
//! - `fleet` (server): the platform team's views over every tenant: tenants, operations, subscriptions.
//! - `instances` (server): tenant instances (Odoo workspaces on their own subdomains) and their operations.
//! - `plan_changes` (server): finance proposes plan changes, owners decide.
//! - `platform_roles` (server): who runs the installation, granted by its owners.
//! - `platform_settings` (server): settings owners change at run time (sign-up, limits).
//! - `jobs` (server): one jobs table and runner for all background work, shared by every console.
//! - `mail` (server): the mail catcher for development and staging builds.
//! - `shell` (server): web and SSH shells into builds, with transcripts.
//! - `sealed` (server): secrets stored sealed under a key outside the database.
//! - `wizard` (server): the tenant wizard's drafts, its SSO test, and Create.
//! - `support` (server): runbooks and support requests.
//! - `supabase` (server): the Supabase kit: linked projects with sealed tokens, and its allow-listed proxy.
//! - `automation`, `analytics` (server): a tenant's signed outbound webhooks, its Supabase and dashboard links.
//! - `web_edge` (server): the HTTP edge's rules: Host allow-list, security headers, client address.

pub mod error;
pub mod types;
pub mod wire;

#[cfg(feature = "server")]
pub(crate) mod access;
#[cfg(feature = "server")]
pub mod accounts;
#[cfg(feature = "server")]
pub mod addresses;
#[cfg(feature = "server")]
pub mod alerts;
#[cfg(feature = "server")]
pub mod analytics;
#[cfg(feature = "server")]
pub mod audit;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod automation;
#[cfg(feature = "server")]
pub mod backups;
#[cfg(feature = "server")]
pub mod builds;
#[cfg(feature = "server")]
pub mod candidates;
#[cfg(feature = "server")]
pub mod catalog;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod engine;
#[cfg(feature = "server")]
pub mod fleet;
#[cfg(feature = "server")]
pub mod instances;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
pub mod mail;
#[cfg(feature = "server")]
pub mod mailer;
#[cfg(feature = "server")]
pub mod markdown;
#[cfg(feature = "server")]
pub mod metrics;
#[cfg(feature = "server")]
pub mod monitoring;
#[cfg(feature = "server")]
pub mod plan_changes;
#[cfg(feature = "server")]
pub mod platform;
#[cfg(feature = "server")]
pub mod platform_roles;
#[cfg(feature = "server")]
pub mod platform_settings;
#[cfg(feature = "server")]
pub mod preflight;
#[cfg(feature = "server")]
pub mod projects;
#[cfg(feature = "server")]
pub mod promotions;
#[cfg(feature = "server")]
pub mod runtime;
#[cfg(feature = "server")]
pub mod sealed;
#[cfg(feature = "server")]
pub mod shell;
#[cfg(feature = "server")]
pub mod supabase;
#[cfg(feature = "server")]
pub mod support;
#[cfg(feature = "server")]
pub mod tenants;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "server")]
pub mod upgrades;
#[cfg(feature = "server")]
pub mod web_edge;
#[cfg(feature = "server")]
pub mod wizard;

pub use error::{DomainError, ErrorCode};
