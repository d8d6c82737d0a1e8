//! Attack tests: each performs an attack from the security review
//! (`security-review.md`, issue 12) against the real application and asserts
//! that it fails. They stay as regression tests, grouped by threat.
//!
//! - [`web_edge`]: DNS rebinding (SEC-07), security headers and cookies
//!   (SEC-20), open redirects (SEC-15), state-changing GETs (SEC-22).
//! - [`accounts`]: first-owner takeover (SEC-07/SEC-22), password guessing and
//!   hashing floods (SEC-11), reset-link leaks and token revocation (SEC-12).

mod accounts;
mod web_edge;
