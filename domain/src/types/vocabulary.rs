//! The closed vocabularies that cross the wire and sit in the database as
//! text: a build's state and result, and the actions of the audit trail.
//! Code matches on these enums, never on their strings; the strings are what
//! the REST API, the CSV export and the database constraints already say.

use super::string_enum;

string_enum!(
    /// Where a build is in its life, as in Runbot.
    BuildState, "build state" {
        Pending = "pending",
        Running = "running",
        Done = "done",
    }
);

string_enum!(
    /// How a finished build ended.
    BuildResult, "build result" {
        Ok = "ok",
        Warn = "warn",
        Ko = "ko",
        Killed = "killed",
    }
);

impl BuildResult {
    /// Whether the build produced something usable (promotable, deployable).
    pub fn succeeded(self) -> bool {
        matches!(self, BuildResult::Ok | BuildResult::Warn)
    }
}

string_enum!(
    /// What an audit event records. Filters match on a prefix (`backup.`).
    AuditAction, "audit action" {
        AccountCreateOwner = "account.create_owner",
        AccountPasswordReset = "account.password_reset",
        AccountSignIn = "account.sign_in",
        AccountSignOut = "account.sign_out",
        AccountSignUp = "account.sign_up",
        AccountVerifyEmail = "account.verify_email",
        AlertChannelAdd = "alert.channel_add",
        AlertChannelRemove = "alert.channel_remove",
        AlertChannelTest = "alert.channel_test",
        AlertDelivery = "alert.delivery",
        AlertFired = "alert.fired",
        AlertResolved = "alert.resolved",
        AlertRuleChange = "alert.rule_change",
        BackupCreate = "backup.create",
        BackupDownload = "backup.download",
        BackupDrillFailed = "backup.drill_failed",
        BackupImport = "backup.import",
        BackupRestore = "backup.restore",
        BackupRestoreProduction = "backup.restore_production",
        BackupRestoreRequest = "backup.restore_request",
        BackupRestoreReject = "backup.restore_reject",
        BackupSettings = "backup.settings",
        BranchDelete = "branch.delete",
        BranchFork = "branch.fork",
        BuildConnect = "build.connect",
        BuildDump = "build.dump",
        BuildKill = "build.kill",
        BuildNow = "build.now",
        BuildRebuild = "build.rebuild",
        BuildShare = "build.share",
        BundleDelete = "bundle.delete",
        BundleSave = "bundle.save",
        CatalogRefresh = "catalog.refresh",
        CatalogSourceAdd = "catalog.source_add",
        CatalogSourceRemove = "catalog.source_remove",
        ConsoleMailRead = "console_mail.read",
        EnvironmentStage = "environment.stage",
        InstanceCreate = "instance.create",
        InstanceDomainAdd = "instance.domain_add",
        InstanceDomainRemove = "instance.domain_remove",
        InstanceDomainVerify = "instance.domain_verify",
        InstanceOperation = "instance.operation",
        InstanceOperationDone = "instance.operation_done",
        InstanceOperationFailed = "instance.operation_failed",
        KitLocalCall = "kit.local_call",
        MailDelete = "mail.delete",
        PlanChangeDecide = "plan_change.decide",
        PlanChangePropose = "plan_change.propose",
        PlatformRoleSet = "platform.role_set",
        PlatformSettings = "platform.settings",
        PreflightOverride = "preflight.override",
        CronStopped = "cron.stopped",
        CronDisabled = "cron.disabled",
        UpgradePreview = "upgrade.preview",
        UpgradeRequest = "upgrade.request",
        ProductionRollback = "production.rollback",
        ProjectBuildSettings = "project.build_settings",
        ProjectCreate = "project.create",
        ProjectDomainAdd = "project.domain_add",
        ProjectDomainRemove = "project.domain_remove",
        ProjectDomainVerify = "project.domain_verify",
        ProjectInvitationRevoke = "project.invitation_revoke",
        ProjectMemberInvite = "project.member_invite",
        ProjectMemberRemove = "project.member_remove",
        ProjectMemberSet = "project.member_set",
        ProjectReleaseSettings = "project.release_settings",
        PromotionApprove = "promotion.approve",
        PromotionDeployed = "promotion.deployed",
        PromotionFailed = "promotion.failed",
        PromotionReject = "promotion.reject",
        PromotionRequest = "promotion.request",
        PromotionRollback = "promotion.rollback",
        PromotionRolledBack = "promotion.rolled_back",
        PromotionWithdraw = "promotion.withdraw",
        RunbookSave = "runbook.save",
        ShellClose = "shell.close",
        ShellExpire = "shell.expire",
        ShellOpen = "shell.open",
        SshKeyAdd = "ssh_key.add",
        SshKeyRemove = "ssh_key.remove",
        SupabaseCall = "supabase.call",
        SupabaseLink = "supabase.link",
        SupabaseUnlink = "supabase.unlink",
        SupportRequestOpen = "support.request_open",
        SupportRequestState = "support.request_state",
        TenantAnalytics = "tenant.analytics",
        TenantCreate = "tenant.create",
        TenantDelete = "tenant.delete",
        TenantInvitationAccept = "tenant.invitation_accept",
        TenantInvitationDecline = "tenant.invitation_decline",
        TenantMemberInvite = "tenant.member_invite",
        TokenCreate = "token.create",
        TokenRevoke = "token.revoke",
        WebhookCreate = "webhook.create",
        WebhookDelete = "webhook.delete",
        WebhookRetry = "webhook.retry",
        WebhookTest = "webhook.test",
        WebhookUpdate = "webhook.update",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_and_refuse_strangers() {
        for s in BuildState::ALL {
            assert_eq!(BuildState::parse(s.as_str()).unwrap(), *s);
        }
        for r in BuildResult::ALL {
            assert_eq!(BuildResult::parse(r.as_str()).unwrap(), *r);
        }
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()).unwrap(), *a);
        }
        assert!(BuildResult::parse("OK").is_err());
        assert!(AuditAction::parse("backup.").is_err());
        assert!(BuildResult::Warn.succeeded() && !BuildResult::Killed.succeeded());
        assert_eq!(serde_json::to_string(&BuildState::Running).unwrap(), "\"running\"");
    }
}
