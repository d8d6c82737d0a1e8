//! Argon2id password hashing. Hashing is CPU-heavy, so it runs on the
//! blocking pool and never stalls the async workers.

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

pub async fn hash_password(password: &Password) -> anyhow::Result<PasswordHash> {
    let plain = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
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
    tokio::task::spawn_blocking(move || {
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
