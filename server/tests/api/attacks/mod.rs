//! Attack tests: each performs an attack from the security review
//! (`security-review.md`, issue 12) against the real stack (PostgreSQL,
//! Docker, git) and asserts that it fails. They stay as regression tests,
//! grouped by threat.
//!
//! - [`postgres`]: tenant SQL and dumps never run as a superuser or on the host
//!   (SEC-01, SEC-02, SEC-04, SEC-10); [`repository`]: links out of the tree,
//!   local URLs, silent remotes, git bombs (SEC-03, SEC-08, SEC-09);
//!   [`filestore`]: planted links (SEC-05); [`fairness`]: build slots (SEC-09);
//!   [`egress`]: link-local addresses from build networks (SEC-10);
//!   [`instances`]: one tenant's instance against another's and the console.
//! - [`web_edge`]: DNS rebinding (SEC-07), security headers and cookies
//!   (SEC-20), open redirects (SEC-15), state-changing GETs (SEC-22).
//! - [`accounts`]: first-owner takeover (SEC-07/SEC-22), password guessing and
//!   hashing floods (SEC-11), reset-link leaks and token revocation (SEC-12).
//! - [`authz`], [`authz_stages`]: the role matrix by stage for rebuild, kill,
//!   logs and sockets, stages recorded with backups and mails, RLS bindings
//!   (SEC-06, SEC-16, SEC-18, SEC-19); [`authz_uploads`]: imports authorized
//!   before the body (SEC-13); [`authz_replay`]: webhook replays and stale
//!   production commits (SEC-14); [`authz_invitations`]: membership by
//!   invitation (SEC-17); [`authz_project_invitations`]: inviting into a
//!   project (issue 20).

mod accounts;
mod authz;
mod authz_invitations;
mod authz_project_invitations;
mod authz_replay;
mod authz_stages;
mod authz_uploads;
mod egress;
mod fairness;
mod filestore;
mod instances;
mod postgres;
mod repository;
pub(crate) mod support;
mod web_edge;
