//! SSH public keys people log in to the gateway with: parsed from the
//! OpenSSH one-line format (`ssh-ed25519 AAAA… comment`), checked (ed25519,
//! ECDSA on the NIST curves, RSA of at least 3072 bits), and named by their
//! SHA256 fingerprint, as `ssh-keygen -l` prints it.

use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::types::AuditAction;
use crate::wire::{NewSshKey, SshKeyView};
use base64::Engine as _;
use sha2::Digest;
use sqlx::Row;
use uuid::Uuid;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: u32 = 3072;

/// A parsed, acceptable public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPublicKey {
    pub algorithm: String,
    pub bits: u32,
    /// The key in SSH wire encoding (what the fingerprint hashes).
    pub blob: Vec<u8>,
    pub comment: String,
}

fn bad(msg: impl Into<String>) -> DomainError {
    DomainError::Invalid(msg.into())
}

/// Reads SSH wire-format fields (RFC 4251 `string` and `mpint`).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> DomainResult<&'a [u8]> {
        let truncated = || bad("the key data is truncated or corrupt");
        let len = self.0.get(..4).ok_or_else(truncated)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let rest = &self.0[4..];
        let field = rest.get(..len).ok_or_else(truncated)?;
        self.0 = &rest[len..];
        Ok(field)
    }

    /// An unsigned big integer's significant bits.
    fn mpint_bits(&mut self) -> DomainResult<u32> {
        let v = self.string()?;
        if v.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(bad("the key holds a negative number"));
        }
        let v: &[u8] = &v[v.iter().take_while(|b| **b == 0).count()..];
        Ok(match v.first() {
            None => 0,
            Some(b) => (v.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
        })
    }
}

impl SshPublicKey {
    /// Parses one line of an `authorized_keys` / `.pub` file.
    pub fn parse(input: &str) -> DomainResult<SshPublicKey> {
        let line = input.trim();
        if line.is_empty() {
            return Err(bad("paste a public key, e.g. the contents of ~/.ssh/id_ed25519.pub"));
        }
        // The header line of a pasted private key file.
        if line.contains(concat!("PRIVATE", " KEY")) {
            return Err(bad("that is a private key: never share it. Paste the .pub file instead"));
        }
        if line.lines().count() > 1 {
            return Err(bad("paste one key per entry (one line)"));
        }
        let mut parts = line.split_whitespace();
        let algorithm = parts.next().unwrap_or_default().to_owned();
        match algorithm.as_str() {
            "ssh-ed25519" | "ssh-rsa" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => {}
            "ssh-dss" => return Err(bad("DSA keys are insecure and not accepted; use ed25519")),
            a if a.starts_with("sk-") => {
                return Err(bad("security-key (FIDO) keys are not supported yet; use ed25519, ecdsa or rsa"))
            }
            a => {
                return Err(bad(format!(
                    "`{}` is not a key type we accept: use ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (at least {MIN_RSA_BITS} bits)",
                    a.chars().take(40).collect::<String>()
                )))
            }
        }
        let data = parts.next().ok_or_else(|| bad("expected `<type> <base64 key> [comment]`"))?;
        let comment = parts.collect::<Vec<_>>().join(" ");
        let blob = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| bad("the key data is not valid base64"))?;
        let mut r = Reader(&blob);
        if r.string()? != algorithm.as_bytes() {
            return Err(bad(format!("the key data does not match its type {algorithm}")));
        }
        let bits = match algorithm.as_str() {
            "ssh-ed25519" => {
                if r.string()?.len() != 32 {
                    return Err(bad("an ed25519 key is 32 bytes"));
                }
                256
            }
            "ssh-rsa" => {
                let e = r.mpint_bits()?;
                let n = r.mpint_bits()?;
                if e < 2 {
                    return Err(bad("the RSA key's exponent is invalid"));
                }
                if n < MIN_RSA_BITS {
                    return Err(bad(format!("RSA keys must have at least {MIN_RSA_BITS} bits; this one has {n}")));
                }
                n
            }
            ecdsa => {
                let curve = ecdsa.trim_start_matches("ecdsa-sha2-");
                if r.string()? != curve.as_bytes() {
                    return Err(bad("the ECDSA key's curve does not match its type"));
                }
                let (bits, len) = match curve {
                    "nistp256" => (256, 65),
                    "nistp384" => (384, 97),
                    _ => (521, 133),
                };
                let point = r.string()?;
                if point.len() != len || point[0] != 4 {
                    return Err(bad("the ECDSA key's point is malformed"));
                }
                bits
            }
        };
        if !r.0.is_empty() {
            return Err(bad("the key data has trailing bytes"));
        }
        Ok(SshPublicKey { algorithm, bits, blob, comment })
    }

    /// `SHA256:<base64, no padding>`, as OpenSSH prints it.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.blob)
    }

    /// The canonical one-line form (type, key, comment).
    pub fn to_openssh(&self) -> String {
        let data = base64::engine::general_purpose::STANDARD.encode(&self.blob);
        if self.comment.is_empty() {
            format!("{} {data}", self.algorithm)
        } else {
            format!("{} {data} {}", self.algorithm, self.comment)
        }
    }
}

/// The SHA256 fingerprint of a key in wire encoding.
pub fn fingerprint_of(blob: &[u8]) -> String {
    let digest = sha2::Sha256::digest(blob);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

fn view(r: &sqlx::postgres::PgRow) -> SshKeyView {
    SshKeyView {
        id: r.get("id"),
        name: r.get("name"),
        algorithm: r.get("algorithm"),
        bits: r.get("bits"),
        fingerprint: r.get("fingerprint"),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
    }
}

/// The caller's keys, oldest first.
pub async fn list(p: &Platform, actor: &Actor) -> DomainResult<Vec<SshKeyView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(
        "SELECT id, name, algorithm, bits, fingerprint, created_at, last_used_at FROM ops.ssh_keys
          WHERE user_id = ops.current_user_id() ORDER BY created_at, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows.iter().map(view).collect())
}

/// Adds a key to the caller's profile; audited.
pub async fn add(p: &Platform, actor: &Actor, input: NewSshKey) -> DomainResult<SshKeyView> {
    let key = SshPublicKey::parse(&input.public_key)?;
    let name = match input.name.trim() {
        "" if !key.comment.is_empty() => key.comment.chars().take(100).collect(),
        "" => key.algorithm.clone(),
        n if n.chars().count() > 100 => return Err(bad("the key name is at most 100 characters")),
        n => n.to_owned(),
    };
    let fingerprint = key.fingerprint();
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let taken: bool = sqlx::query_scalar("SELECT ops.ssh_key_taken($1)").bind(&fingerprint).fetch_one(&mut *tx).await?;
    if taken {
        return Err(DomainError::Conflict(format!(
            "the key {fingerprint} is already registered (a key identifies one account; generate a new one)"
        )));
    }
    let row = sqlx::query(
        "INSERT INTO ops.ssh_keys (id, user_id, name, algorithm, bits, fingerprint, public_key)
         VALUES ($1, ops.current_user_id(), $2, $3, $4, $5, $6)
         RETURNING id, name, algorithm, bits, fingerprint, created_at, last_used_at",
    )
    .bind(Uuid::new_v4())
    .bind(&name)
    .bind(&key.algorithm)
    .bind(key.bits as i32)
    .bind(&fingerprint)
    .bind(key.to_openssh())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        actor,
        Event::account(
            AuditAction::SshKeyAdd,
            format!("user:{}", actor.user_id.0),
            serde_json::json!({"name": name, "fingerprint": fingerprint, "algorithm": key.algorithm}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row))
}

/// Removes one of the caller's keys; audited.
pub async fn remove(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<()> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let fingerprint: Option<String> = sqlx::query_scalar(
        "DELETE FROM ops.ssh_keys WHERE id = $1 AND user_id = ops.current_user_id() RETURNING fingerprint",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let fingerprint = fingerprint.ok_or(DomainError::NotFound("ssh key"))?;
    audit::record(
        &mut tx,
        actor,
        Event::account(
            AuditAction::SshKeyRemove,
            format!("user:{}", actor.user_id.0),
            serde_json::json!({"fingerprint": fingerprint}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The account a presented key belongs to (the gateway, before anyone is known).
pub async fn owner(p: &Platform, fingerprint: &str) -> DomainResult<Option<Uuid>> {
    Ok(sqlx::query_scalar("SELECT ops.ssh_key_owner($1)")
        .bind(fingerprint)
        .fetch_optional(p.db.anonymous())
        .await?
        .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Generated with `ssh-keygen -t ed25519`; `ssh-keygen -lf` prints the fingerprint below.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2ua7ApZdFITn8FFneRtbfBd2uWPrIJSS977KiZ7KoR alice@laptop";

    fn wire(fields: &[&[u8]]) -> String {
        let mut blob = Vec::new();
        for f in fields {
            blob.extend((f.len() as u32).to_be_bytes());
            blob.extend(*f);
        }
        base64::engine::general_purpose::STANDARD.encode(blob)
    }

    #[test]
    fn ed25519_parses_with_its_fingerprint() {
        let k = SshPublicKey::parse(ED25519).unwrap();
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert_eq!(k.bits, 256);
        assert_eq!(k.comment, "alice@laptop");
        assert_eq!(k.fingerprint(), "SHA256:jl2GhRQq1EnoUdf2Jz0cOGJwd9e09jTkttnJJwXHzIA");
        assert_eq!(SshPublicKey::parse(&k.to_openssh()).unwrap(), k);
    }

    #[test]
    fn rsa_needs_3072_bits() {
        let mut n2048 = vec![0u8];
        n2048.extend([0xc5; 256]);
        let weak = format!("ssh-rsa {}", wire(&[b"ssh-rsa", &[1, 0, 1], &n2048]));
        let err = SshPublicKey::parse(&weak).unwrap_err().to_string();
        assert!(err.contains("at least 3072 bits") && err.contains("2048"), "{err}");
        let mut n3072 = vec![0u8];
        n3072.extend([0xc5; 384]);
        let ok = SshPublicKey::parse(&format!("ssh-rsa {}", wire(&[b"ssh-rsa", &[1, 0, 1], &n3072]))).unwrap();
        assert_eq!(ok.bits, 3072);
    }

    #[test]
    fn ecdsa_checks_curve_and_point() {
        let mut point = vec![4u8];
        point.extend([7u8; 64]);
        let k = SshPublicKey::parse(&format!(
            "ecdsa-sha2-nistp256 {}",
            wire(&[b"ecdsa-sha2-nistp256", b"nistp256", &point])
        ))
        .unwrap();
        assert_eq!(k.bits, 256);
        let wrong_curve = format!("ecdsa-sha2-nistp256 {}", wire(&[b"ecdsa-sha2-nistp256", b"nistp384", &point]));
        assert!(SshPublicKey::parse(&wrong_curve).is_err());
    }

    #[test]
    fn garbage_gets_a_clear_error() {
        // Built at run time so no file holds a private-key header.
        let pasted_private = format!("-----BEGIN OPENSSH {}-----", ["PRIVATE", "KEY"].join(" "));
        for (input, says) in [
            ("", "paste a public key"),
            ("hello", "is not a key type"),
            ("ssh-ed25519", "expected"),
            ("ssh-ed25519 !!!notbase64", "not valid base64"),
            ("ssh-dss AAAA", "DSA keys"),
            (pasted_private.as_str(), "private key"),
            ("sk-ssh-ed25519@openssh.com AAAA", "security-key"),
        ] {
            let err = SshPublicKey::parse(input).unwrap_err().to_string();
            assert!(err.contains(says), "{input:?} → {err}");
        }
        // A valid base64 blob of the wrong type, a truncated one, and trailing bytes.
        let rsa_as_ed = format!("ssh-ed25519 {}", wire(&[b"ssh-rsa", &[1]]));
        assert!(SshPublicKey::parse(&rsa_as_ed).unwrap_err().to_string().contains("does not match"));
        let short = format!("ssh-ed25519 {}", wire(&[b"ssh-ed25519", &[1; 31]]));
        assert!(SshPublicKey::parse(&short).unwrap_err().to_string().contains("32 bytes"));
        let trailing = format!("ssh-ed25519 {}", wire(&[b"ssh-ed25519", &[1; 32], b"x"]));
        assert!(SshPublicKey::parse(&trailing).unwrap_err().to_string().contains("trailing"));
    }
}
