//! Outgoing platform mail (password resets, later notifications) behind a
//! trait. Until the SMTP settings and the mail catcher exist, the default
//! mailer writes each message to the log, where an operator can find it.

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
        tracing::info!(target: "odooops::mail", to = %mail.to, subject = %mail.subject, "mail not sent (no SMTP configured):\n{}", mail.body);
        Ok(())
    }
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
