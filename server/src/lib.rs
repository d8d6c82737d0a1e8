//! The `odooops` binary's library half: configuration, start-up, the HTTP
//! router (console, REST API, health), and the command line. Integration tests
//! start the real application from here on port 0.
//!
//! # Layout
//! - [`cli`]: subcommands (`serve`, `admin create-owner`, `admin audit-verify`).
//! - [`config`]: every setting, from flags or environment variables.
//! - [`application`]: the one wiring of a running console, for `serve`, the tests and the benches.
//! - [`startup`]: database (embedded or `DATABASE_URL`), settings, router, graceful shutdown.
//! - [`edge`]: the Host allow-list (421 for other names) and the security headers.
//! - [`middleware`]: who is calling (session cookie or bearer token), CSRF origin check, request ids.
//! - [`api`]: the REST API under `/api/v1` and its OpenAPI document, plus `/api/health`.
//! - [`relay`]: the console's own mail through an SMTP relay (TLS, auth).
//! - [`worker`]: runs queued builds; [`preview`]: routes `<slug>.<preview domain>` to them.
//! - [`terminal`]: the web shell's WebSocket; [`ssh`]: the SSH gateway to the same shells.

pub mod api;
pub mod application;
pub mod cli;
pub mod client;
pub mod config;
pub mod edge;
pub mod logs;
pub mod middleware;
pub mod preview;
pub mod relay;
pub mod ssh;
pub mod startup;
pub mod telemetry;
pub mod terminal;
pub mod upgrade;
pub mod worker;
