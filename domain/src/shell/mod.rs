//! Shells into running builds, from the browser and over SSH.
//!
//! - [`sessions`]: who may open a shell where, the TTL, the one-time attach
//!   token, how sessions end, and their audit events.
//! - [`bridge`]: one client ↔ one `docker exec`, with backpressure.
//! - [`transcript`]: the bounded, ordered record of every byte.
//! - [`keys`]: users' SSH public keys and their fingerprints.

pub mod bridge;
pub mod keys;
pub mod sessions;
pub mod transcript;
