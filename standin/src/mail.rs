//! Sending mail the way Odoo does when started with `--smtp*` flags: plain
//! SMTP with optional AUTH PLAIN. Enough for a platform to prove where a
//! build's mail goes (its catcher in development and staging, the real relay
//! in production).

use crate::Config;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Where mail goes: `--smtp`, `--smtp-port`, `--smtp-user`, `--smtp-password`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Smtp {
    pub host: Option<String>,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

fn b64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    /// Reads a (possibly multi-line) reply; its code.
    fn reply(&mut self) -> Result<u16, String> {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).map_err(|e| format!("reading the SMTP reply: {e}"))?;
            if line.len() < 4 {
                return Err(format!("unexpected SMTP reply {line:?}"));
            }
            if line.as_bytes()[3] != b'-' {
                return line[..3].parse().map_err(|_| format!("unexpected SMTP reply {line:?}"));
            }
        }
    }

    fn command(&mut self, line: &str, expect: u16) -> Result<(), String> {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).map_err(|e| e.to_string())?;
        match self.reply()? {
            code if code == expect => Ok(()),
            code => Err(format!("the SMTP server answered {code} to {}", line.split(' ').next().unwrap_or(""))),
        }
    }
}

/// Sends one message, with a text and an HTML alternative (as Odoo's mails have).
pub fn send(c: &Config, from: &str, to: &str, subject: &str, body: &str) -> Result<(), String> {
    let host = c.smtp.host.as_deref().ok_or("no SMTP server configured (--smtp)")?;
    let stream =
        TcpStream::connect((host, c.smtp.port)).map_err(|e| format!("connecting to {host}:{}: {e}", c.smtp.port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut conn = Conn { reader: BufReader::new(stream.try_clone().map_err(|e| e.to_string())?), writer: stream };
    if conn.reply()? != 220 {
        return Err("the SMTP server did not greet".into());
    }
    conn.command("EHLO odoo", 250)?;
    if let (Some(user), Some(password)) = (&c.smtp.user, &c.smtp.password) {
        conn.command(&format!("AUTH PLAIN {}", b64(format!("\0{user}\0{password}").as_bytes())), 235)?;
    }
    conn.command(&format!("MAIL FROM:<{from}>"), 250)?;
    conn.command(&format!("RCPT TO:<{to}>"), 250)?;
    conn.command("DATA", 354)?;
    let id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let boundary = format!("standin-{id}");
    let mut message = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}.standin@odoo>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    let html: String =
        body.lines().map(|l| format!("<p>{}</p>", l.replace('&', "&amp;").replace('<', "&lt;"))).collect();
    let text = format!(
        "{body}\r\n--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>{html}</div>\r\n--{boundary}--"
    );
    for line in text.lines() {
        if line.starts_with('.') {
            message.push('.');
        }
        message.push_str(line);
        message.push_str("\r\n");
    }
    message.push_str(".\r\n");
    conn.writer.write_all(message.as_bytes()).map_err(|e| e.to_string())?;
    match conn.reply()? {
        250 => {}
        code => return Err(format!("the SMTP server refused the message ({code})")),
    }
    let _ = conn.command("QUIT", 221);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(super::b64(b""), "");
        assert_eq!(super::b64(b"f"), "Zg==");
        assert_eq!(super::b64(b"fo"), "Zm8=");
        assert_eq!(super::b64(b"foo"), "Zm9v");
        assert_eq!(super::b64(b"\0u\0p"), "AHUAcA==");
    }
}
