//! Sign-in as Odoo does it: `res_users.password` holds a passlib
//! `pbkdf2_sha512` hash (`$pbkdf2-sha512$<rounds>$<salt>$<checksum>`, both in
//! passlib's adapted base64), or, as Odoo still accepts, plain text (the
//! `admin` seeded in a fresh database). A good login opens a session cookie.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha512;
use std::collections::HashMap;
use std::sync::Mutex;

/// passlib's "ab64": standard base64 with `.` for `+`, no padding.
fn ab64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.replace('.', "+")).ok()
}

fn pbkdf2_sha512(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    for (block, chunk) in out.chunks_mut(64).enumerate() {
        let mut mac = Hmac::<Sha512>::new_from_slice(password).expect("any key length");
        mac.update(salt);
        mac.update(&(block as u32 + 1).to_be_bytes());
        let mut u = mac.finalize().into_bytes();
        let mut t = u;
        for _ in 1..rounds {
            let mut mac = Hmac::<Sha512>::new_from_slice(password).expect("any key length");
            mac.update(&u);
            u = mac.finalize().into_bytes();
            t.iter_mut().zip(u.iter()).for_each(|(a, b)| *a ^= b);
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// Whether `password` matches the stored value (constant time on the hash).
pub fn verify(password: &str, stored: &str) -> bool {
    let Some(rest) = stored.strip_prefix("$pbkdf2-sha512$") else {
        return !stored.is_empty() && !stored.starts_with('$') && stored == password;
    };
    let mut parts = rest.split('$');
    let (Some(rounds), Some(salt), Some(sum), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(rounds), Some(salt), Some(sum)) = (rounds.parse::<u32>(), ab64_decode(salt), ab64_decode(sum)) else {
        return false;
    };
    if rounds == 0 || rounds > 10_000_000 || sum.is_empty() || sum.len() > 128 {
        return false;
    }
    let mut out = vec![0u8; sum.len()];
    pbkdf2_sha512(password.as_bytes(), &salt, rounds, &mut out);
    out.iter().zip(sum.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Open sessions: cookie value → login.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, String>>);

impl Sessions {
    pub fn open(&self, login: &str) -> String {
        let mut raw = [0u8; 16];
        // A guessable session id would let anyone in: without randomness, stop.
        let read = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw));
        if let Err(e) = read {
            eprintln!("cannot read /dev/urandom for a session id: {e}");
            std::process::abort();
        }
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        if let Ok(mut m) = self.0.lock() {
            m.insert(id.clone(), login.to_owned());
        }
        id
    }

    /// The login of the session named in a `Cookie` header, if any.
    pub fn who(&self, cookie_header: &str) -> Option<String> {
        let id = cookie_header.split(';').map(str::trim).find_map(|c| c.strip_prefix("session_id="))?;
        self.0.lock().ok()?.get(id).cloned()
    }
}

/// `application/x-www-form-urlencoded` field `name`, decoded.
pub fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| decode(v))
    })
}

/// String member `name` of the JSON object `body` (found anywhere, as in a
/// JSON-RPC call's `params`), with JSON's escapes decoded. Enough for the
/// compact JSON clients send to `/web/session/authenticate`.
pub fn json_field(body: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\"");
    let at = body.find(&key)? + key.len();
    let rest = body[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?).unwrap_or('\u{fffd}'));
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passlib_hashes_and_plain_text_verify() {
        // passlib.hash.pbkdf2_sha512.using(rounds=1000, salt=b"0123456789abcdef").hash("s3cret!")
        let salt = b"0123456789abcdef";
        let mut sum = [0u8; 64];
        pbkdf2_sha512(b"s3cret!", salt, 1000, &mut sum);
        let ab64 = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b).replace('+', ".");
        let stored = format!("$pbkdf2-sha512$1000${}${}", ab64(salt), ab64(&sum));
        assert!(verify("s3cret!", &stored));
        assert!(!verify("admin", &stored));
        assert!(verify("admin", "admin"));
        assert!(!verify("", ""));
        assert!(!verify("x", "$pbkdf2-sha512$0$$"));
        assert_eq!(form_field("login=ann%40acme.test&password=a+b%21", "login").as_deref(), Some("ann@acme.test"));
        assert_eq!(form_field("login=x&password=a+b%21", "password").as_deref(), Some("a b!"));
        let call = r#"{"jsonrpc":"2.0","params":{"db":"d","login":"ad\"min","password": "p\u00e9w"}}"#;
        assert_eq!(json_field(call, "login").as_deref(), Some("ad\"min"));
        assert_eq!(json_field(call, "password").as_deref(), Some("péw"));
        assert_eq!(json_field(call, "nothing"), None);
        assert_eq!(json_field(r#"{"login":"unterminated"#, "login"), None);
    }

    #[test]
    fn pbkdf2_matches_rfc_vectors() {
        // RFC 7914 §11 (PBKDF2-HMAC-SHA256 there); for SHA-512 the widely published vector:
        // P="password", S="salt", c=1, dkLen=64.
        let mut out = [0u8; 64];
        pbkdf2_sha512(b"password", b"salt", 1, &mut out);
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert!(hex.starts_with("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"), "{hex}");
    }
}
