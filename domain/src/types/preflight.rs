//! Preflight gates: the platform's constraints (those Odoo.sh enforces
//! without saying so in advance), each answering pass, warn or fail with a
//! reason and what to do. Shared by the server (which decides) and the
//! browser (which shows the verdicts on the build page and in the grid).

use super::string_enum;
use serde::{Deserialize, Serialize};

string_enum!(
    /// One of the platform's constraints.
    Gate, "preflight gate" {
        Extensions = "extensions",
        ObjectCount = "object_count",
        CronRuntime = "cron_runtime",
        SystemPackages = "system_packages",
        SmtpPorts = "smtp_ports",
        LongConnections = "long_connections",
    }
);

string_enum!(
    /// A gate's answer.
    Verdict, "preflight verdict" {
        Pass = "pass",
        Warn = "warn",
        Fail = "fail",
    }
);

impl Gate {
    /// The gate as people name it.
    pub fn title(self) -> &'static str {
        match self {
            Gate::Extensions => "PostgreSQL extensions",
            Gate::ObjectCount => "Database objects",
            Gate::CronRuntime => "Cron runtime",
            Gate::SystemPackages => "System packages at run time",
            Gate::SmtpPorts => "SMTP ports",
            Gate::LongConnections => "Long-lived connections",
        }
    }

    /// What to do when the gate does not pass.
    pub fn remedy(self) -> &'static str {
        match self {
            Gate::Extensions => {
                "Use only the extensions the platform allows (ask the operator to add one to the allow-list), \
                 or drop the module's CREATE EXTENSION and its use."
            }
            Gate::ObjectCount => {
                "Uninstall unused modules, drop leftover tables of removed modules, or move large custom \
                 models into fewer tables; the platform's limit is a setting of its operator."
            }
            Gate::CronRuntime => {
                "Make the scheduled action do less per run (batches, commits between them, a cursor) and let \
                 the next run continue; re-enable it once it finishes within the limit."
            }
            Gate::SystemPackages => {
                "Install system packages and Python libraries in the image (the base image or the \
                 repository's Dockerfile FROM line and requirements.txt), never from a running server."
            }
            Gate::SmtpPorts => {
                "Send production mail through port 465 (TLS) or 587 (STARTTLS): port 25 is closed. Fix the \
                 project's relay setting and the outgoing mail servers in Odoo."
            }
            Gate::LongConnections => {
                "Workers are recycled at any time: reconnect on every use, keep no socket open in a thread, \
                 and use Odoo's bus for live updates."
            }
        }
    }
}

/// One gate's answer for one build: what it found, and whether a person
/// accepted (a warning) or waived (a failure) it for the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GateResult {
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub gate: Gate,
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub verdict: Verdict,
    /// Why, naming the file and line or the figure.
    pub reason: String,
    /// A figure the gate measured (the object count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<i64>,
    /// `accepted` (a warning an admin accepted) or `waived` (a failure platform staff waived), with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overridden: Option<String>,
}

impl GateResult {
    pub fn pass(gate: Gate, reason: impl Into<String>) -> Self {
        GateResult { gate, verdict: Verdict::Pass, reason: reason.into(), figure: None, overridden: None }
    }

    pub fn warn(gate: Gate, reason: impl Into<String>) -> Self {
        GateResult { gate, verdict: Verdict::Warn, reason: reason.into(), figure: None, overridden: None }
    }

    pub fn fail(gate: Gate, reason: impl Into<String>) -> Self {
        GateResult { gate, verdict: Verdict::Fail, reason: reason.into(), figure: None, overridden: None }
    }

    /// What counts once overrides apply: a waived failure and an accepted warning pass.
    pub fn effective(&self) -> Verdict {
        match (&self.overridden, self.verdict) {
            (Some(_), Verdict::Fail | Verdict::Warn) => Verdict::Pass,
            (_, v) => v,
        }
    }
}

/// The worst effective verdict, and the first result that has it (what the build's reason says).
pub fn worst(results: &[GateResult]) -> (Verdict, Option<&GateResult>) {
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Warn => 1,
        Verdict::Fail => 2,
    };
    // The first of the worst: gates are in their order, the build names the first that failed.
    let worst = results.iter().fold(None::<&GateResult>, |best, r| match best {
        Some(b) if rank(b.effective()) >= rank(r.effective()) => Some(b),
        _ => Some(r),
    });
    match worst {
        Some(r) if r.effective() != Verdict::Pass => (r.effective(), Some(r)),
        _ => (Verdict::Pass, None),
    }
}

/// A one-line summary for the grid's tooltip: `preflight: 5 pass, 1 warn (Long-lived connections)`.
pub fn summary(results: &[GateResult]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let count = |v: Verdict| results.iter().filter(|r| r.effective() == v).count();
    let mut s = format!("preflight: {} pass", count(Verdict::Pass));
    for v in [Verdict::Warn, Verdict::Fail] {
        let names: Vec<&str> = results.iter().filter(|r| r.effective() == v).map(|r| r.gate.title()).collect();
        if !names.is_empty() {
            s.push_str(&format!(", {} {} ({})", names.len(), v.as_str(), names.join(", ")));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_soften_and_the_worst_is_reported() {
        let mut results = vec![
            GateResult::pass(Gate::Extensions, "plpgsql only"),
            GateResult::warn(Gate::LongConnections, "a websocket client in acme/bus.py:3"),
            GateResult::fail(Gate::SystemPackages, "apt-get install in Dockerfile:4"),
        ];
        let (v, r) = worst(&results);
        assert_eq!((v, r.map(|r| r.gate)), (Verdict::Fail, Some(Gate::SystemPackages)));
        assert_eq!(
            summary(&results),
            "preflight: 1 pass, 1 warn (Long-lived connections), 1 fail (System packages at run time)"
        );
        results[2].overridden = Some("waived by ops@x: vendor image".into());
        assert_eq!(worst(&results).0, Verdict::Warn);
        results[1].overridden = Some("accepted".into());
        assert_eq!(worst(&results), (Verdict::Pass, None));
        assert!(Gate::ALL.iter().all(|g| !g.remedy().is_empty() && !g.title().is_empty()));
    }
}
