//! Secrets OdooOps must hand back later (a tenant's SSO client secret, a
//! Management API token) are sealed before they are stored: AES-256-GCM under
//! a key that is not in the database, so a dump or a stolen backup of the
//! control plane holds no usable secret. The key comes from
//! `ODOOOPS_SEAL_KEY` (64 hex digits) or, without it, from `seal.key` in the
//! data directory (created once, mode 0600).
//!
//! Rotation: start the console with the new key in `ODOOOPS_SEAL_KEY` and the
//! old one in `ODOOOPS_SEAL_KEY_PREVIOUS`. Values sealed under either open;
//! every write seals under the new one. Each sealed value names its key (the
//! first four bytes of the key's SHA-256), so a value under an unknown key
//! is a clear error, never a garbled secret.
//!
//! Every value is sealed for a purpose (`sso_client_secret`): the purpose is
//! authenticated data, so a sealed value copied into another column does not
//! open there.

use anyhow::{bail, Context};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::Digest;
use std::path::Path;
use std::sync::Arc;

const VERSION: u8 = 1;

struct Key {
    id: [u8; 4],
    key: LessSafeKey,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Key {
        let digest = sha2::Sha256::digest(bytes);
        Key {
            id: [digest[0], digest[1], digest[2], digest[3]],
            key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte key")),
        }
    }
}

/// Seals and opens stored secrets (see the module's documentation).
#[derive(Clone)]
pub struct Sealer(Arc<Vec<Key>>);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({} key(s))", self.0.len())
    }
}

impl Default for Sealer {
    /// A key of this process only: values sealed under it die with it (tests, tools).
    fn default() -> Self {
        let mut k = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
        Sealer::from_keys(&k, &[])
    }
}

fn parse_hex_key(s: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = hex::decode(s.trim()).with_context(|| format!("{what} is not hexadecimal"))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("{what} must be 32 bytes (64 hex digits)"))
}

impl Sealer {
    pub fn from_keys(current: &[u8; 32], previous: &[[u8; 32]]) -> Sealer {
        let mut keys = vec![Key::new(current)];
        keys.extend(previous.iter().map(Key::new));
        Sealer(Arc::new(keys))
    }

    /// The installation's keys: the environment's, else `seal.key` in `data_dir` (made on first use).
    pub fn load(data_dir: &Path, current: Option<&str>, previous: Option<&str>) -> anyhow::Result<Sealer> {
        let previous: Vec<[u8; 32]> = previous
            .map(|p| {
                p.split(',').filter(|k| !k.trim().is_empty()).map(|k| parse_hex_key(k, "ODOOOPS_SEAL_KEY_PREVIOUS"))
            })
            .into_iter()
            .flatten()
            .collect::<anyhow::Result<_>>()?;
        if let Some(k) = current.filter(|k| !k.trim().is_empty()) {
            return Ok(Sealer::from_keys(&parse_hex_key(k, "ODOOOPS_SEAL_KEY")?, &previous));
        }
        let file = data_dir.join("seal.key");
        let key = match std::fs::read_to_string(&file) {
            Ok(s) => parse_hex_key(&s, &file.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut k = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
                std::fs::create_dir_all(data_dir)?;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&file)
                    .with_context(|| format!("creating {}", file.display()))?;
                f.write_all(hex::encode(k).as_bytes())?;
                f.sync_all()?;
                tracing::info!(file = %file.display(), "made the key that seals stored secrets; back it up with the data directory");
                k
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
        };
        Ok(Sealer::from_keys(&key, &previous))
    }

    /// `plain` sealed for `purpose` under the current key.
    pub fn seal(&self, plain: &[u8], purpose: &str) -> Vec<u8> {
        let key = &self.0[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
        let mut buf = plain.to_vec();
        key.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose.as_bytes()), &mut buf)
            .expect("sealing in memory");
        let mut out = Vec::with_capacity(1 + 4 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out
    }

    /// What [`seal`](Self::seal) sealed for the same `purpose`, under any known key.
    pub fn open(&self, sealed: &[u8], purpose: &str) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < 1 + 4 + NONCE_LEN || sealed[0] != VERSION {
            bail!("not a sealed value");
        }
        let (id, rest) = sealed[1..].split_at(4);
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let Some(key) = self.0.iter().find(|k| k.id == id) else {
            bail!("sealed under a key this console does not have (set ODOOOPS_SEAL_KEY_PREVIOUS to the old key)");
        };
        let mut buf = body.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).expect("length checked");
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("a sealed value does not open: altered, or sealed for another purpose"))?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_purpose_and_survive_rotation() {
        let (old, new) = ([7u8; 32], [9u8; 32]);
        let before = Sealer::from_keys(&old, &[]);
        let sealed = before.seal(b"client-secret", "sso_client_secret");
        assert!(!sealed.windows(6).any(|w| w == b"client"), "the value is not stored in clear");
        assert_eq!(before.open(&sealed, "sso_client_secret").unwrap(), b"client-secret");
        assert!(before.open(&sealed, "supabase_token").is_err(), "another purpose does not open it");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(before.open(&altered, "sso_client_secret").is_err());
        let rotated = Sealer::from_keys(&new, &[old]);
        assert_eq!(rotated.open(&sealed, "sso_client_secret").unwrap(), b"client-secret");
        let resealed = rotated.seal(b"client-secret", "sso_client_secret");
        let e = before.open(&resealed, "sso_client_secret").unwrap_err().to_string();
        assert!(e.contains("ODOOOPS_SEAL_KEY_PREVIOUS"), "{e}");
    }

    #[test]
    fn the_data_directory_key_is_made_once_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("odooops-seal-{}", uuid::Uuid::new_v4()));
        let a = Sealer::load(&dir, None, None).unwrap();
        let sealed = a.seal(b"x", "p");
        let b = Sealer::load(&dir, None, None).unwrap();
        assert_eq!(b.open(&sealed, "p").unwrap(), b"x");
        let mode = std::fs::metadata(dir.join("seal.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(Sealer::load(&dir, Some("abcd"), None).is_err(), "a short key is refused");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
