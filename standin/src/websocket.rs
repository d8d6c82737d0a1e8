//! `/websocket`, where Odoo's bus lives: the RFC 6455 handshake, then every
//! text or binary message is answered with `echo: <message>`, pings with
//! pongs, a close with a close. Enough to prove a proxy passes it through.

use base64::Engine;
use sha1::{Digest, Sha1};
use std::io::{Read, Write};
use std::net::TcpStream;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const MAX: u64 = 64 * 1024;

/// The `Sec-WebSocket-Accept` for a client's key.
pub fn accept(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => out.push(n as u8),
        n if n <= 0xffff => {
            out.push(126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Answers the handshake, then serves messages until a close or an error.
pub fn serve(mut stream: TcpStream, mut reader: impl Read, key: &str) {
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept(key)
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    loop {
        let mut h = [0u8; 2];
        if reader.read_exact(&mut h).is_err() {
            return;
        }
        let opcode = h[0] & 0x0f;
        let masked = h[1] & 0x80 != 0;
        let mut len = u64::from(h[1] & 0x7f);
        if len == 126 {
            let mut b = [0u8; 2];
            if reader.read_exact(&mut b).is_err() {
                return;
            }
            len = u64::from(u16::from_be_bytes(b));
        } else if len == 127 {
            let mut b = [0u8; 8];
            if reader.read_exact(&mut b).is_err() {
                return;
            }
            len = u64::from_be_bytes(b);
        }
        if len > MAX {
            let _ = stream.write_all(&frame(0x8, &1009u16.to_be_bytes()));
            return;
        }
        let mut mask = [0u8; 4];
        if masked && reader.read_exact(&mut mask).is_err() {
            return;
        }
        let mut payload = vec![0u8; len as usize];
        if reader.read_exact(&mut payload).is_err() {
            return;
        }
        if masked {
            payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= mask[i % 4]);
        }
        let reply = match opcode {
            0x1 | 0x2 => {
                let mut r = b"echo: ".to_vec();
                r.extend_from_slice(&payload);
                frame(opcode, &r)
            }
            0x9 => frame(0xA, &payload),
            0x8 => {
                let _ = stream.write_all(&frame(0x8, &payload));
                return;
            }
            _ => continue,
        };
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_handshake_answers_as_rfc_6455_says() {
        // The example of RFC 6455, section 1.3.
        assert_eq!(super::accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
