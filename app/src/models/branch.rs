//! What a branch's page shows, kept out of its components so plain tests reach
//! it: its tabs (and who sees which) and its history's events in words.

use domain::types::{AuditAction, Capability};

/// The tabs of a branch's page, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchTab {
    History,
    Logs,
    Mails,
    Shell,
    Backups,
    Monitoring,
    Settings,
}

impl BranchTab {
    pub const ALL: [BranchTab; 7] = [
        BranchTab::History,
        BranchTab::Logs,
        BranchTab::Mails,
        BranchTab::Shell,
        BranchTab::Backups,
        BranchTab::Monitoring,
        BranchTab::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BranchTab::History => "History",
            BranchTab::Logs => "Logs",
            BranchTab::Mails => "Mails",
            BranchTab::Shell => "Shell",
            BranchTab::Backups => "Backups",
            BranchTab::Monitoring => "Monitoring",
            BranchTab::Settings => "Settings",
        }
    }

    /// The tab's element id suffix (`tab-history`).
    pub fn id(self) -> &'static str {
        match self {
            BranchTab::History => "history",
            BranchTab::Logs => "logs",
            BranchTab::Mails => "mails",
            BranchTab::Shell => "shell",
            BranchTab::Backups => "backups",
            BranchTab::Monitoring => "monitoring",
            BranchTab::Settings => "settings",
        }
    }

    /// What the role matrix asks on the branch's stage for this tab (History: everyone who sees it).
    pub fn capability(self) -> Option<Capability> {
        match self {
            BranchTab::History => None,
            BranchTab::Logs => Some(Capability::Logs),
            BranchTab::Mails => Some(Capability::Mails),
            BranchTab::Shell => Some(Capability::Shell),
            BranchTab::Backups => Some(Capability::Backups),
            BranchTab::Monitoring => Some(Capability::Monitor),
            BranchTab::Settings => Some(Capability::ProjectSettings),
        }
    }

    /// Where the tab leads; `None` when there is nothing to open (no live build for a shell, no settings page).
    pub fn href(self, env: uuid::Uuid, settings: Option<&str>, live_build: Option<uuid::Uuid>) -> Option<String> {
        Some(match self {
            BranchTab::History => format!("/environments/{env}"),
            BranchTab::Logs => format!("/environments/{env}/logs"),
            BranchTab::Mails => format!("/environments/{env}/mails"),
            BranchTab::Shell => format!("/builds/{}/shell", live_build?),
            BranchTab::Backups => format!("/environments/{env}/backups"),
            BranchTab::Monitoring => format!("/environments/{env}/monitoring"),
            BranchTab::Settings => settings.filter(|s| !s.is_empty())?.to_owned(),
        })
    }
}

/// An event of a branch's history in words, after the person who did it.
pub fn event_text(action: AuditAction, summary: &serde_json::Value) -> String {
    let s = |k: &str| summary.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    match action {
        AuditAction::EnvironmentStage => match s("to").as_str() {
            "" => "changed the stage".into(),
            to => format!("moved it to {to}"),
        },
        AuditAction::BuildNow => "asked for a build of its head".into(),
        AuditAction::BuildRebuild => "rebuilt a build".into(),
        AuditAction::BuildKill => "killed a build".into(),
        AuditAction::BranchFork => format!("forked it into {}", s("fork")),
        AuditAction::BackupCreate => "backed it up".into(),
        AuditAction::BackupImport => "imported a backup into it".into(),
        AuditAction::BackupRestore | AuditAction::BackupRestoreProduction => "restored a backup into it".into(),
        AuditAction::BackupRestoreRequest => "asked to restore a backup into it".into(),
        AuditAction::PromotionRequest => "asked to promote a build to production".into(),
        AuditAction::PromotionApprove => "approved a promotion".into(),
        AuditAction::PromotionReject => "rejected a promotion".into(),
        AuditAction::PromotionWithdraw => "withdrew a promotion".into(),
        AuditAction::ProductionRollback => "rolled production back".into(),
        other => other.as_str().replace(['.', '_'], " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_lead_to_their_pages_and_leave_out_what_cannot_open() {
        let env = uuid::Uuid::nil();
        assert_eq!(BranchTab::Mails.href(env, None, None).as_deref(), Some(&*format!("/environments/{env}/mails")));
        assert_eq!(BranchTab::Shell.href(env, None, None), None, "no live build, no shell");
        let b = uuid::Uuid::from_u128(7);
        assert_eq!(BranchTab::Shell.href(env, None, Some(b)).as_deref(), Some(&*format!("/builds/{b}/shell")));
        assert_eq!(BranchTab::Settings.href(env, Some(""), None), None);
        assert_eq!(
            BranchTab::Settings.href(env, Some("/projects/a/b#build-settings"), None).as_deref(),
            Some("/projects/a/b#build-settings")
        );
        assert_eq!(BranchTab::History.capability(), None);
    }

    #[test]
    fn events_read_as_sentences() {
        let moved = serde_json::json!({"to": "staging"});
        assert_eq!(event_text(AuditAction::EnvironmentStage, &moved), "moved it to staging");
        let fork = serde_json::json!({"fork": "feature/b"});
        assert_eq!(event_text(AuditAction::BranchFork, &fork), "forked it into feature/b");
        assert_eq!(event_text(AuditAction::BuildShare, &serde_json::Value::Null), "build share");
    }
}
