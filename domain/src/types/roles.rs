//! Roles and the Odoo.sh access matrix.
//!
//! Three layers: platform roles (who runs the installation), tenant roles
//! (who runs an organisation) and project roles (who works on a project).
//! What a project role may do depends on the stage of the branch, exactly as
//! Odoo.sh's role matrix (see `shared/reference/odoo.md`):
//! - development: every role gets every tool;
//! - staging: developers only connect and read history/status; testers and
//!   admins get the tools;
//! - production: developers and testers only connect and read history/status;
//!   admins get the tools, backups included.
//!
//! Project settings, member management, promotion and the audit log are for
//! project admins only. Staging backups are open to testers and admins,
//! because restoring staging is self-serve.

use super::{parsed_serde, ParseError};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(ParseError::new($field, format!(
                        "must be one of: {}", [$($s),+].join(", ")))),
                }
            }

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        parsed_serde!($name);
    };
}

string_enum!(
    /// Installation-wide role, optional on a user.
    PlatformRole, "platform role" {
        Owner = "platform_owner",
        Operator = "platform_operator",
        Auditor = "auditor",
    }
);

string_enum!(
    /// Role inside a tenant (organisation).
    TenantRole, "tenant role" {
        Admin = "tenant_admin",
        Member = "member",
    }
);

string_enum!(
    /// Role inside a project, as on Odoo.sh.
    ProjectRole, "project role" {
        Admin = "admin",
        Developer = "developer",
        Tester = "tester",
    }
);

string_enum!(
    /// The stage of a branch.
    Stage, "stage" {
        Production = "production",
        Staging = "staging",
        Development = "development",
    }
);

string_enum!(
    /// Something a person can do on a branch or project.
    Capability, "capability" {
        Connect = "connect",
        History = "history",
        Status = "status",
        Mails = "mails",
        Shell = "shell",
        Editor = "editor",
        Monitor = "monitor",
        Logs = "logs",
        Backups = "backups",
        Upgrade = "upgrade",
        BranchSettings = "branch_settings",
        ProjectSettings = "project_settings",
        ManageMembers = "manage_members",
        Promote = "promote",
        AuditLog = "audit_log",
    }
);

impl PlatformRole {
    /// Owners and operators administer every tenant.
    pub fn administers_platform(self) -> bool {
        matches!(self, PlatformRole::Owner | PlatformRole::Operator)
    }
}

impl ProjectRole {
    /// Whether this role may use `cap` on a branch of `stage`.
    pub fn allows(self, stage: Stage, cap: Capability) -> bool {
        use Capability::*;
        let read_only = matches!(cap, Connect | History | Status);
        let project_level = matches!(cap, ProjectSettings | ManageMembers | Promote | AuditLog);
        if project_level {
            return self == ProjectRole::Admin;
        }
        match (stage, self) {
            (Stage::Development, _) => cap != Backups,
            (_, ProjectRole::Admin) => cap != Mails || stage != Stage::Production,
            (Stage::Staging, ProjectRole::Tester) => true,
            (Stage::Staging, ProjectRole::Developer) => read_only,
            (Stage::Production, _) => read_only,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    #[test]
    fn development_is_open_to_all() {
        for role in ProjectRole::ALL {
            for cap in [Connect, Mails, Shell, Editor, Logs, Upgrade] {
                assert!(role.allows(Stage::Development, cap), "{role:?} {cap:?}");
            }
        }
    }

    #[test]
    fn staging_developer_is_read_only() {
        assert!(ProjectRole::Developer.allows(Stage::Staging, Connect));
        assert!(ProjectRole::Developer.allows(Stage::Staging, History));
        assert!(!ProjectRole::Developer.allows(Stage::Staging, Shell));
        assert!(!ProjectRole::Developer.allows(Stage::Staging, Mails));
        assert!(ProjectRole::Tester.allows(Stage::Staging, Shell));
        assert!(ProjectRole::Tester.allows(Stage::Staging, Mails));
        assert!(ProjectRole::Admin.allows(Stage::Staging, Logs));
    }

    #[test]
    fn production_tools_are_admin_only() {
        for role in [ProjectRole::Developer, ProjectRole::Tester] {
            assert!(role.allows(Stage::Production, Connect));
            for cap in [Shell, Logs, Backups, Editor, Monitor, Upgrade] {
                assert!(!role.allows(Stage::Production, cap), "{role:?} {cap:?}");
            }
        }
        for cap in [Shell, Logs, Backups, Editor, Monitor, Upgrade, BranchSettings] {
            assert!(ProjectRole::Admin.allows(Stage::Production, cap), "{cap:?}");
        }
    }

    #[test]
    fn project_level_is_admin_only() {
        for stage in Stage::ALL {
            for cap in [ProjectSettings, ManageMembers, Promote, AuditLog] {
                assert!(ProjectRole::Admin.allows(*stage, cap));
                assert!(!ProjectRole::Tester.allows(*stage, cap));
                assert!(!ProjectRole::Developer.allows(*stage, cap));
            }
        }
    }

    #[test]
    fn parse_round_trips() {
        for r in PlatformRole::ALL {
            assert_eq!(PlatformRole::parse(r.as_str()).unwrap(), *r);
        }
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()).unwrap(), *s);
        }
        assert!(ProjectRole::parse("owner").is_err());
        assert!(PlatformRole::Owner.administers_platform());
        assert!(!PlatformRole::Auditor.administers_platform());
    }
}
