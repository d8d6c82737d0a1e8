//! Attack tests: each performs an attack from the security review
//! (`security-review.md`, issue 12) against the real stack (PostgreSQL,
//! Docker, git) and asserts that it fails. They stay as regression tests,
//! grouped by threat.
//!
//! - [`postgres`]: tenant SQL and dumps never run as a superuser or on the host
//!   (SEC-01, SEC-02, SEC-04, SEC-10); [`repository`]: links out of the tree,
//!   local URLs, silent remotes, git bombs (SEC-03, SEC-08, SEC-09);
//!   [`filestore`]: planted links (SEC-05); [`fairness`]: build slots (SEC-09);
//!   [`egress`]: link-local addresses from build networks (SEC-10).
//! - [`web_edge`]: DNS rebinding (SEC-07), security headers and cookies
//!   (SEC-20), open redirects (SEC-15), state-changing GETs (SEC-22).
//! - [`accounts`]: first-owner takeover (SEC-07/SEC-22), password guessing and
//!   hashing floods (SEC-11), reset-link leaks and token revocation (SEC-12).

mod accounts;
mod egress;
mod fairness;
mod filestore;
mod postgres;
mod repository;
mod support;
mod web_edge;
