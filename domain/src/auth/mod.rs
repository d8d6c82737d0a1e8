//! Authentication: password hashing, sessions, personal access tokens,
//! login throttling, and the first owner's setup token.
//!
//! Secrets handed to clients (session cookies, access tokens, reset links) are
//! random 256-bit values; only their SHA-256 is stored, so a database leak
//! does not leak a usable credential. None of the types holding a secret or
//! its hash implements `Serialize`.

mod actor;
mod passwords;
pub mod setup;
mod throttle;

pub use actor::{Actor, RequestMeta};
pub use passwords::{hash_password, verify_password, PasswordHash};
pub use throttle::LoginThrottle;

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random URL-safe token with `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form of a client-held secret.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Prefix of personal access tokens, so they are recognisable (and scannable) in leaks.
pub const TOKEN_PREFIX: &str = "odo_";
