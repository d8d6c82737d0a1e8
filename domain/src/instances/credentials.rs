//! The instance admin's password: checked, then hashed the way Odoo stores
//! it (passlib's `pbkdf2_sha512`, which every Odoo since 8.0 verifies), so
//! OdooOps never stores the password itself, only this hash, and only until
//! provisioning writes it into the instance's database.

use crate::error::{DomainError, DomainResult};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// Odoo's own default for new hashes (Odoo 17+).
pub const ROUNDS: u32 = 600_000;

/// The rule for an instance admin's password (it guards a company's ERP).
/// Account passwords' rule ([`crate::types::Password`]) first, then the admin's own.
pub fn check_password(login: &str, password: &str) -> DomainResult<()> {
    crate::types::Password::parse(password)
        .map_err(|e| DomainError::Invalid(format!("the admin password {}", e.reason)))?;
    if password.chars().count() > 128 {
        return Err(DomainError::Invalid("the admin password may have at most 128 characters".into()));
    }
    let lower = password.to_lowercase();
    if lower == login.to_lowercase() || lower.starts_with("admin") || lower == "password123" {
        return Err(DomainError::Invalid("choose an admin password that is not your login or `admin…`".into()));
    }
    Ok(())
}

/// `$pbkdf2-sha512$<rounds>$<salt>$<checksum>` in passlib's adapted base64.
pub fn odoo_hash(password: &str, rounds: u32) -> String {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    let mut sum = [0u8; 64];
    pbkdf2_sha512(password.as_bytes(), &salt, rounds, &mut sum);
    let ab64 = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b).replace('+', ".");
    format!("$pbkdf2-sha512${rounds}${}${}", ab64(&salt), ab64(&sum))
}

/// [`odoo_hash`] off the async threads (it takes a fraction of a second on purpose).
pub async fn odoo_hash_async(password: String) -> DomainResult<String> {
    Ok(tokio::task::spawn_blocking(move || odoo_hash(&password, ROUNDS))
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?)
}

fn pbkdf2_sha512(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8; 64]) {
    let key = Hmac::<Sha512>::new_from_slice(password).expect("any key length");
    let mut mac = key.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u = mac.finalize().into_bytes();
    let mut t = u;
    for _ in 1..rounds {
        let mut mac = key.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes();
        t.iter_mut().zip(u.iter()).for_each(|(a, b)| *a ^= b);
    }
    out.copy_from_slice(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_passlib_shaped_salted_and_match_the_published_vector() {
        let mut out = [0u8; 64];
        pbkdf2_sha512(b"password", b"salt", 1, &mut out);
        assert!(hex::encode(out).starts_with("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"));
        let (a, b) = (odoo_hash("correct horse", 1000), odoo_hash("correct horse", 1000));
        assert!(a.starts_with("$pbkdf2-sha512$1000$") && a.split('$').count() == 5, "{a}");
        assert_ne!(a, b, "salted");
        assert!(!a.contains("correct"));
    }

    #[test]
    fn weak_admin_passwords_are_refused() {
        assert!(check_password("ann@acme.test", "short").is_err());
        assert!(check_password("ann@acme.test", "admin12345").is_err());
        assert!(check_password("ann@acme.test", "ANN@acme.test").is_err());
        assert!(check_password("ann@acme.test", "a long good phrase").is_ok());
    }
}
