//! Argon2id password hashing. Hashing is CPU-heavy, so it runs on the
//! blocking pool and never stalls the async workers.
//!
//! Each hash takes about 19 MiB and a core for a while, and the blocking pool
//! has hundreds of threads: a flood of sign-ins or sign-ups would exhaust
//! memory. A process-wide semaphore ([`hashing_permit`]) lets only as many
//! hashes run at once as there are cores; the others wait their turn.

use crate::types::Password;
use anyhow::Context;
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// A PHC-format Argon2id hash. Explicitly not `Serialize`.
pub struct PasswordHash(pub(crate) String);

impl PasswordHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A permit to run one Argon2 computation; waits while all are taken.
/// The permit moves into the blocking task, so a client that goes away does
/// not free the slot while its hash still runs.
async fn hashing_permit() -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
    static SLOTS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::sync::Arc::new(tokio::sync::Semaphore::new(cores.clamp(1, 8)))
    });
    slots.clone().acquire_owned().await.context("password hashing slots closed")
}

pub async fn hash_password(password: &Password) -> anyhow::Result<PasswordHash> {
    let plain = password.expose().to_owned();
    let permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(plain.as_bytes(), &salt)
            .map(|h| PasswordHash(h.to_string()))
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await
    .context("password hashing task")?
}

/// Verifies `plain` against `stored`. With no stored hash, a dummy hash is
/// checked anyway so that unknown accounts take as long as known ones.
pub async fn verify_password(plain: &str, stored: Option<String>) -> anyhow::Result<bool> {
    let plain = plain.to_owned();
    let permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let known = stored.is_some();
        let text = stored.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    Argon2::default().hash_password(b"no such account", &salt).expect("hashing a constant").to_string()
                })
                .clone()
        });
        let parsed = argon2::PasswordHash::new(&text).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let ok = Argon2::default().verify_password(plain.as_bytes(), &parsed).is_ok();
        Ok(known && ok)
    })
    .await
    .context("password verification task")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let pw = Password::parse("correct horse battery").unwrap();
        let h = hash_password(&pw).await.unwrap();
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(h.0.clone())).await.unwrap());
        assert!(!verify_password("wrong horse battery", Some(h.0)).await.unwrap());
        assert!(!verify_password("correct horse battery", None).await.unwrap());
    }
}
