//! Outgoing platform mail (password resets, invitations, alerts) behind a
//! trait. With an SMTP relay configured, the server's `relay` module sends
//! it; without one, the console keeps it in its own mailbox for platform
//! owners ([`crate::mail::console`]). The log mailer here serves benchmarks
//! and tools that have no mailbox.
//!
//! Logs travel further than mail (shippers, support staff, backups), so the
//! log mailer never writes a link's secret: every `token=` value is redacted
//! ([`redact_secrets`]).

use async_trait::async_trait;
use std::sync::Mutex;

#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: OutgoingMail) -> anyhow::Result<()>;
}

/// Logs every message at INFO level (target `odooops::mail`).
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: OutgoingMail) -> anyhow::Result<()> {
        tracing::info!(target: "odooops::mail", to = %mail.to, subject = %mail.subject, "{}", log_text(&mail));
        Ok(())
    }
}

/// What the log mailer writes for a message.
pub fn log_text(mail: &OutgoingMail) -> String {
    format!("mail not sent (no SMTP configured), secrets redacted:\n{}", redact_secrets(&mail.body))
}

/// `text` with the value of every `token=` (query parameter or not) replaced.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("token=") {
        let (head, tail) = rest.split_at(i + "token=".len());
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '&' || c == '"' || c == '\'' || c == '>')
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Keeps messages in memory; tests read them back.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl MemoryMailer {
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().expect("mailer lock").clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: OutgoingMail) -> anyhow::Result<()> {
        self.sent.lock().expect("mailer lock").push(mail);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_never_carries_a_reset_token() {
        let mail = OutgoingMail {
            to: "ann@acme.test".into(),
            subject: "Reset".into(),
            body: "Open this link:\nhttps://ops.test/reset-password/confirm?token=s3cr3t-_X&next=/a\nTOKEN=abc end"
                .into(),
        };
        let text = log_text(&mail);
        assert!(!text.contains("s3cr3t") && !text.contains("abc"), "{text}");
        assert!(text.contains("confirm?token=[redacted]&next=/a"), "{text}");
        assert_eq!(redact_secrets("no secret here"), "no secret here");
        assert_eq!(redact_secrets("token="), "token=");
    }
}
