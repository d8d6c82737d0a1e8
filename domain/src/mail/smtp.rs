//! The catcher's SMTP server: ESMTP with SIZE, 8BITMIME, SMTPUTF8,
//! PIPELINING, ENHANCEDSTATUSCODES and AUTH PLAIN/LOGIN. Credentials are an
//! environment's (a live development or staging one); anything else gets 535,
//! so production, whose containers never get these credentials, cannot be
//! caught even by mistake. One task per connection; replies are written as
//! commands are read, so pipelined clients work.

use super::store::{self, Login};
use crate::platform::Platform;
use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Longest command line accepted (RFC 5321 says 512; AUTH lines are longer).
const MAX_LINE: usize = 4096;
/// Recipients per message.
const MAX_RCPT: usize = 100;
/// Idle time before a connection is dropped.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Accepts connections until the listener fails.
/// SMTP sessions served at once; more are told to come back (421).
pub const MAX_SESSIONS: usize = 64;

pub async fn serve(p: Platform, listener: TcpListener) {
    // Each session may buffer a message of up to the size limit: their number is bounded too.
    let sessions = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_SESSIONS));
    let writer = super::writer::Writer::start(p.clone());
    loop {
        match listener.accept().await {
            Ok((mut stream, peer)) => {
                let Ok(permit) = sessions.clone().try_acquire_owned() else {
                    use tokio::io::AsyncWriteExt;
                    let _ = stream.write_all(b"421 4.3.2 too many connections, try again later\r\n").await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let (p, writer) = (p.clone(), writer.clone());
                tokio::spawn(async move {
                    let (r, w) = stream.into_split();
                    if let Err(e) = session(&p, &writer, r, w).await {
                        tracing::debug!(%peer, error = %e, "SMTP session ended");
                    }
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "SMTP: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    Eof,
}

async fn read_line<R: AsyncRead + Unpin>(r: &mut BufReader<R>, max: usize) -> std::io::Result<Line> {
    let mut buf = Vec::new();
    loop {
        let chunk = tokio::time::timeout(TIMEOUT, r.fill_buf())
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if chunk.is_empty() {
            return Ok(if buf.is_empty() { Line::Eof } else { Line::Text(buf) });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > max {
            // Drop the rest of an absurd line, then say so.
            let done_here = done;
            r.consume(take);
            if done_here {
                return Ok(Line::TooLong);
            }
            buf.clear();
            buf.truncate(0);
            loop {
                let chunk = r.fill_buf().await?;
                if chunk.is_empty() {
                    return Ok(Line::Eof);
                }
                if let Some(i) = chunk.iter().position(|b| *b == b'\n') {
                    r.consume(i + 1);
                    return Ok(Line::TooLong);
                }
                let n = chunk.len();
                r.consume(n);
            }
        }
        buf.extend_from_slice(&chunk[..take]);
        r.consume(take);
        if done {
            return Ok(Line::Text(buf));
        }
    }
}

fn addr_arg<'a>(args: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = args.get(..prefix.len()).filter(|p| p.eq_ignore_ascii_case(prefix)).map(|_| &args[prefix.len()..])?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((&rest[..end], rest[end + 1..].trim()))
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

/// One SMTP conversation.
pub async fn session<R, W>(p: &Platform, writer: &super::writer::Writer, reader: R, mut w: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let max = p.settings.mail.max_message_bytes;
    let mut r = BufReader::new(reader);
    let mut login: Option<Login> = None;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    let mut errors = 0;
    w.write_all(b"220 odooops ESMTP mail catcher ready\r\n").await?;
    loop {
        w.flush().await?;
        let line = match read_line(&mut r, MAX_LINE).await? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                w.write_all(b"500 5.5.2 Line too long\r\n").await?;
                continue;
            }
            Line::Text(t) => t,
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, args) = line.split_once(' ').unwrap_or((line, ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => format!(
                "250-odooops greets {}\r\n250-SIZE {max}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH PLAIN LOGIN\r\n",
                args.trim()
            ),
            "HELO" => "250 odooops\r\n".into(),
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "RSET" => {
                from = None;
                rcpts.clear();
                "250 2.0.0 OK\r\n".into()
            }
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                w.flush().await?;
                return Ok(());
            }
            "STARTTLS" => "454 4.7.0 TLS is not offered by this catcher\r\n".into(),
            "VRFY" => "252 2.1.5 Cannot verify, but will accept\r\n".into(),
            "AUTH" if login.is_some() => "503 5.5.1 Already authenticated\r\n".into(),
            "AUTH" => {
                let (mech, initial) = args.split_once(' ').unwrap_or((args, ""));
                let creds = match mech.to_ascii_uppercase().as_str() {
                    "PLAIN" => {
                        let data = if initial.is_empty() {
                            w.write_all(b"334 \r\n").await?;
                            w.flush().await?;
                            match read_line(&mut r, MAX_LINE).await? {
                                Line::Text(t) => String::from_utf8_lossy(&t).trim().to_owned(),
                                _ => return Ok(()),
                            }
                        } else {
                            initial.to_owned()
                        };
                        decode_b64(&data).and_then(|d| {
                            let mut parts = d.split(|b| *b == 0);
                            let _authzid = parts.next()?;
                            let user = String::from_utf8(parts.next()?.to_vec()).ok()?;
                            let pass = String::from_utf8(parts.next()?.to_vec()).ok()?;
                            Some((user, pass))
                        })
                    }
                    "LOGIN" => {
                        let user = if initial.is_empty() {
                            w.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                            w.flush().await?;
                            match read_line(&mut r, MAX_LINE).await? {
                                Line::Text(t) => decode_b64(&String::from_utf8_lossy(&t)),
                                _ => return Ok(()),
                            }
                        } else {
                            decode_b64(initial)
                        };
                        w.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                        w.flush().await?;
                        let pass = match read_line(&mut r, MAX_LINE).await? {
                            Line::Text(t) => decode_b64(&String::from_utf8_lossy(&t)),
                            _ => return Ok(()),
                        };
                        user.zip(pass).and_then(|(u, p)| Some((String::from_utf8(u).ok()?, String::from_utf8(p).ok()?)))
                    }
                    _ => None,
                };
                match creds {
                    None if !matches!(mech.to_ascii_uppercase().as_str(), "PLAIN" | "LOGIN") => {
                        "504 5.5.4 Unrecognized authentication type\r\n".into()
                    }
                    None => "501 5.5.2 Cannot decode the credentials\r\n".into(),
                    Some((user, pass)) => match store::login(p, &user, &pass).await {
                        Ok(Some(l)) => {
                            login = Some(l);
                            "235 2.7.0 Authentication successful\r\n".into()
                        }
                        Ok(None) => {
                            errors += 1;
                            "535 5.7.8 Authentication credentials invalid (only live development and staging environments are caught)\r\n".into()
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "SMTP login lookup failed");
                            "454 4.7.0 Temporary authentication failure\r\n".into()
                        }
                    },
                }
            }
            "MAIL" => match (&login, addr_arg(args, "FROM:")) {
                (None, _) => "530 5.7.0 Authentication required\r\n".into(),
                (_, None) => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".into(),
                (Some(_), Some((addr, params))) => {
                    let declared = params
                        .split_whitespace()
                        .find_map(|p| p.get(..5).filter(|k| k.eq_ignore_ascii_case("SIZE=")).map(|_| &p[5..]))
                        .and_then(|n| n.parse::<u64>().ok());
                    if declared.is_some_and(|n| n > max as u64) {
                        format!("552 5.3.4 Message size exceeds the limit of {max} bytes\r\n")
                    } else {
                        from = Some(addr.to_owned());
                        rcpts.clear();
                        "250 2.1.0 OK\r\n".into()
                    }
                }
            },
            "RCPT" => match (&from, addr_arg(args, "TO:")) {
                (None, _) => "503 5.5.1 MAIL first\r\n".into(),
                (_, None) => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".into(),
                (Some(_), Some(_)) if rcpts.len() >= MAX_RCPT => "452 4.5.3 Too many recipients\r\n".into(),
                (Some(_), Some((addr, _))) => {
                    rcpts.push(addr.to_owned());
                    "250 2.1.5 OK\r\n".into()
                }
            },
            "DATA" if from.is_none() || rcpts.is_empty() => "503 5.5.1 MAIL and RCPT first\r\n".into(),
            "DATA" => {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                w.flush().await?;
                let mut raw = Vec::new();
                let mut over = false;
                loop {
                    let line = match read_line(&mut r, 1 << 20).await? {
                        Line::Eof => return Ok(()),
                        Line::TooLong => {
                            over = true;
                            continue;
                        }
                        Line::Text(t) => t,
                    };
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    let body = if line.starts_with(b".") { &line[1..] } else { &line[..] };
                    if raw.len() + body.len() > max {
                        over = true;
                    } else if !over {
                        raw.extend_from_slice(body);
                    }
                }
                let envelope_from = from.take().unwrap_or_default();
                let to = std::mem::take(&mut rcpts);
                match (&login, over) {
                    (_, true) => format!("552 5.3.4 Message size exceeds the limit of {max} bytes\r\n"),
                    (None, _) => "530 5.7.0 Authentication required\r\n".into(),
                    (Some(l), false) => match writer.catch(l, &envelope_from, &to, raw).await {
                        Ok(id) => format!("250 2.0.0 OK: caught as {id}\r\n"),
                        Err(e) => {
                            tracing::warn!(error = %e, "storing a caught message failed");
                            "451 4.3.0 Could not store the message; try again\r\n".into()
                        }
                    },
                }
            }
            "" => "500 5.5.2 Empty command\r\n".into(),
            _ => {
                errors += 1;
                "502 5.5.2 Command not recognized\r\n".into()
            }
        };
        w.write_all(reply.as_bytes()).await?;
        if errors >= 10 {
            w.write_all(b"421 4.7.0 Too many errors, closing\r\n").await?;
            w.flush().await?;
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_read_from_mail_and_rcpt() {
        assert_eq!(super::addr_arg("FROM:<a@b.test> SIZE=10", "FROM:"), Some(("a@b.test", "SIZE=10")));
        assert_eq!(super::addr_arg("from: <a@b.test>", "FROM:"), Some(("a@b.test", "")));
        assert_eq!(super::addr_arg("FROM:<>", "FROM:"), Some(("", "")));
        assert_eq!(super::addr_arg("TO:a@b.test", "TO:"), None);
    }
}
