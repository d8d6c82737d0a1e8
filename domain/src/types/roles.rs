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
//! Project settings, member management and the audit log are for project
//! admins only; approving promotions (and upgrades and production restores)
//! for admins and release managers, who otherwise have a tester's rights. Staging backups are open to testers and admins,
//! because restoring staging is self-serve.

use super::string_enum;

string_enum!(
    /// Installation-wide role, optional on a user.
    PlatformRole, "platform role" {
        Owner = "platform_owner",
        Operator = "platform_operator",
        Auditor = "auditor",
        /// Reads billing (tenants, plans, subscriptions) and nothing below it.
        Finance = "finance_owner",
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
        /// A tester who also approves promotions, upgrades and production
        /// restores, without administering the project.
        ReleaseManager = "release_manager",
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
        RequestPromotion = "request_promotion",
        AuditLog = "audit_log",
    }
);

impl Capability {
    /// Whether the capability is about the whole project (settings, members,
    /// promotions, the audit log) rather than one branch: the same on every stage.
    pub fn project_level(self) -> bool {
        use Capability::*;
        matches!(self, ProjectSettings | ManageMembers | Promote | RequestPromotion | AuditLog)
    }
}

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
        if cap == RequestPromotion {
            // Testers validate staging and ask for its promotion; admins and release managers approve.
            return matches!(self, ProjectRole::Admin | ProjectRole::Tester | ProjectRole::ReleaseManager);
        }
        if cap == Promote {
            return matches!(self, ProjectRole::Admin | ProjectRole::ReleaseManager);
        }
        if cap.project_level() {
            return self == ProjectRole::Admin;
        }
        match (stage, self) {
            (Stage::Development, _) => cap != Backups,
            (_, ProjectRole::Admin) => cap != Mails || stage != Stage::Production,
            (Stage::Staging, ProjectRole::Tester | ProjectRole::ReleaseManager) => true,
            (Stage::Staging, ProjectRole::Developer) => read_only,
            (Stage::Production, _) => read_only,
        }
    }
}

/// What the caller may do on one project, per stage, as the server resolved it
/// (their role, tenant administration, platform rights). Views carry it so the
/// console offers exactly the actions the server would accept, instead of
/// recomputing the matrix from role strings. On the wire: a map from stage to
/// the capabilities allowed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Allowed([u32; 3]);

impl Allowed {
    /// Asks `may` once for every stage and capability.
    pub fn from_fn(mut may: impl FnMut(Stage, Capability) -> bool) -> Self {
        let mut bits = [0u32; 3];
        for (si, stage) in Stage::ALL.iter().enumerate() {
            for (ci, cap) in Capability::ALL.iter().enumerate() {
                if may(*stage, *cap) {
                    bits[si] |= 1 << ci;
                }
            }
        }
        Allowed(bits)
    }

    /// Everything a project role may do, for a member with no other rights.
    pub fn of_role(role: ProjectRole) -> Self {
        Allowed::from_fn(|stage, cap| role.allows(stage, cap))
    }

    /// Whether `cap` is allowed on a branch of `stage`.
    pub fn can(&self, stage: Stage, cap: Capability) -> bool {
        let si = Stage::ALL.iter().position(|s| *s == stage).unwrap_or(0);
        let ci = Capability::ALL.iter().position(|c| *c == cap).unwrap_or(0);
        self.0[si] & (1 << ci) != 0
    }

    /// Whether a project-level capability (settings, members, promotion, audit) is allowed.
    pub fn can_project(&self, cap: Capability) -> bool {
        Stage::ALL.iter().all(|stage| self.can(*stage, cap))
    }
}

impl serde::Serialize for Allowed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(Stage::ALL.len()))?;
        for stage in Stage::ALL {
            let caps: Vec<&str> =
                Capability::ALL.iter().filter(|c| self.can(*stage, **c)).map(|c| c.as_str()).collect();
            map.serialize_entry(stage.as_str(), &caps)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Allowed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<Stage, Vec<Capability>>::deserialize(d)?;
        Ok(Allowed::from_fn(|stage, cap| map.get(&stage).is_some_and(|caps| caps.contains(&cap))))
    }
}

#[cfg(feature = "server")]
impl utoipa::PartialSchema for Allowed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Object)
            .description(Some(
                "For each stage (`production`, `staging`, `development`), the capabilities the caller has there.",
            ))
            .into()
    }
}
#[cfg(feature = "server")]
impl utoipa::ToSchema for Allowed {}

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
    fn testers_request_promotions_and_admins_approve() {
        for stage in Stage::ALL {
            assert!(ProjectRole::Tester.allows(*stage, RequestPromotion));
            assert!(ProjectRole::Admin.allows(*stage, RequestPromotion));
            assert!(!ProjectRole::Developer.allows(*stage, RequestPromotion));
            assert!(!ProjectRole::Tester.allows(*stage, Promote));
        }
    }

    #[test]
    fn release_managers_approve_without_administering() {
        let rm = ProjectRole::ReleaseManager;
        for stage in Stage::ALL {
            assert!(rm.allows(*stage, Promote) && rm.allows(*stage, RequestPromotion));
            for cap in [ProjectSettings, ManageMembers, AuditLog] {
                assert!(!rm.allows(*stage, cap), "{cap:?}");
            }
        }
        assert!(rm.allows(Stage::Staging, Shell), "a tester's tools on staging");
        assert!(!rm.allows(Stage::Production, Shell), "production stays read-only");
        assert!(!rm.allows(Stage::Production, Backups));
    }

    #[test]
    fn allowed_round_trips_on_the_wire() {
        let dev = Allowed::of_role(ProjectRole::Developer);
        assert!(dev.can(Stage::Development, Shell));
        assert!(!dev.can(Stage::Production, Shell));
        assert!(!dev.can_project(Promote));
        assert!(Allowed::of_role(ProjectRole::Admin).can_project(ProjectSettings));
        let json = serde_json::to_value(dev).unwrap();
        assert_eq!(json["production"], serde_json::json!(["connect", "history", "status"]));
        assert_eq!(serde_json::from_value::<Allowed>(json).unwrap(), dev);
        assert_eq!(Allowed::default(), serde_json::from_str::<Allowed>("{}").unwrap());
        assert!(serde_json::from_str::<Allowed>(r#"{"production":["fly"]}"#).is_err());
        assert!(Capability::ALL.len() <= 32, "Allowed keeps a stage's capabilities in 32 bits");
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
