//! The console's own mail (password resets) through a real SMTP relay.
//!
//! Why: without one, platform mail only reaches the log, where a reset link
//! would be anyone's who reads logs (security review SEC-12). With
//! `ODOOOPS_SMTP_RELAY` set, mail goes to the relay over TLS: implicit TLS on
//! port 465, STARTTLS (required, never opportunistic) otherwise; `none` is for
//! a relay on this host only. Certificates are checked against the system's
//! roots. Without a relay the console keeps the log mailer, which redacts
//! tokens (`domain::mailer`).

use anyhow::{bail, Context};
use async_trait::async_trait;
use domain::mailer::{Mailer, OutgoingMail};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which the relay must offer (submission, port 587).
    StartTls,
    /// No encryption: a relay on this host only.
    None,
}

/// The relay settings, checked.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub from: Mailbox,
}

impl RelayConfig {
    /// From `host[:port]` (port 587 by default), an optional `tls`/`starttls`/`none`
    /// (default by port: 465 → tls, else starttls), optional credentials, and the sender.
    pub fn parse(
        relay: &str,
        security: Option<&str>,
        user: Option<&str>,
        password: Option<&str>,
        from: &str,
    ) -> anyhow::Result<Self> {
        let relay = relay.trim();
        let (host, port) = match relay.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                (h.trim_matches(['[', ']']).to_owned(), p.parse().context("ODOOOPS_SMTP_RELAY: bad port")?)
            }
            _ => (relay.to_owned(), 587),
        };
        if host.is_empty() || host.starts_with('-') || host.contains(['/', ' ', '@']) {
            bail!("ODOOOPS_SMTP_RELAY: `{relay}` is not host[:port]");
        }
        let security = match security.map(str::trim).filter(|s| !s.is_empty()) {
            None if port == 465 => Security::Tls,
            None => Security::StartTls,
            Some("tls") => Security::Tls,
            Some("starttls") => Security::StartTls,
            Some("none") => Security::None,
            Some(other) => bail!("ODOOOPS_SMTP_RELAY_SECURITY: `{other}` is not tls, starttls or none"),
        };
        if security == Security::None && !is_local(&host) {
            bail!("ODOOOPS_SMTP_RELAY_SECURITY=none is for a relay on this host only; `{host}` needs tls or starttls");
        }
        let credentials = match (user.filter(|u| !u.is_empty()), password) {
            (Some(u), Some(p)) => Some((u.to_owned(), p.to_owned())),
            (Some(_), None) => bail!("ODOOOPS_SMTP_RELAY_USER needs ODOOOPS_SMTP_RELAY_PASSWORD"),
            (None, _) => None,
        };
        let from = from.parse().with_context(|| format!("ODOOOPS_MAIL_FROM: `{from}` is not an address"))?;
        Ok(RelayConfig { host, port, security, credentials, from })
    }
}

fn is_local(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends platform mail through the relay.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(cfg: &RelayConfig) -> anyhow::Result<Self> {
        let tls = || TlsParameters::new(cfg.host.clone()).context("TLS parameters for the SMTP relay");
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)
            .port(cfg.port)
            .timeout(Some(Duration::from_secs(30)))
            .tls(match cfg.security {
                Security::Tls => Tls::Wrapper(tls()?),
                Security::StartTls => Tls::Required(tls()?),
                Security::None => Tls::None,
            });
        if let Some((user, password)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(SmtpMailer { transport: builder.build(), from: cfg.from.clone() })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: OutgoingMail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse().with_context(|| format!("recipient {}", mail.to))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .body(mail.body)
            .context("building the message")?;
        self.transport.send(message).await.context("sending through the SMTP relay")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    #[test]
    fn settings_pick_tls_by_port_and_refuse_plain_remote_relays() {
        let c = RelayConfig::parse("smtp.example.com:465", None, None, None, "OdooOps <ops@example.com>").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.security), ("smtp.example.com", 465, Security::Tls));
        let c = RelayConfig::parse("smtp.example.com", None, Some("u"), Some("p"), "ops@example.com").unwrap();
        assert_eq!((c.port, c.security), (587, Security::StartTls));
        assert!(c.credentials.is_some());
        assert!(RelayConfig::parse("smtp.example.com:25", Some("none"), None, None, "a@b.c").is_err());
        assert!(RelayConfig::parse("127.0.0.1:25", Some("none"), None, None, "a@b.c").is_ok());
        assert!(RelayConfig::parse("smtp.example.com", Some("ssl3"), None, None, "a@b.c").is_err());
        assert!(RelayConfig::parse("smtp.example.com", None, Some("u"), None, "a@b.c").is_err());
        assert!(RelayConfig::parse("-oProxy", None, None, None, "a@b.c").is_err());
        assert!(RelayConfig::parse("smtp.example.com", None, None, None, "not an address").is_err());
    }

    /// A minimal SMTP server on loopback: accepts one message, hands back its DATA.
    async fn one_message(listener: tokio::net::TcpListener) -> String {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Some(line) = lines.next_line().await.unwrap() {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" => b"250-test\r\n250 8BITMIME\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go on\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(answer).await.unwrap();
        }
        data
    }

    #[tokio::test]
    async fn a_reset_mail_reaches_the_relay_intact() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(one_message(listener));
        let cfg = RelayConfig::parse(&relay, Some("none"), None, None, "OdooOps <ops@console.test>").unwrap();
        let link = "https://console.test/reset-password/confirm?token=abc";
        SmtpMailer::new(&cfg)
            .unwrap()
            .send(OutgoingMail { to: "ann@acme.test".into(), subject: "Reset".into(), body: format!("Open {link}\n") })
            .await
            .unwrap();
        let data = server.await.unwrap();
        assert!(data.contains("Subject: Reset") && data.contains("To: ann@acme.test"), "{data}");
        assert!(data.contains("From: OdooOps <ops@console.test>"), "{data}");
        assert!(data.contains(link), "the recipient gets the whole link: {data}");
    }
}
