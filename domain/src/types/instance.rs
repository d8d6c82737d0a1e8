//! An instance's vocabulary and its life, as a pure state machine shared by
//! the server (which enforces it) and the browser (which offers only the
//! operations it allows): states, operations, database strategies, and the
//! subdomain rule.
//!
//! draft → provisioning → active ⇄ paused → decommissioning → decommissioned,
//! with `error` reachable from every working state. An operation starts only
//! from the states listed for it, holds the instance in its working state
//! while it runs, and ends in its success or failure state; nothing else
//! moves an instance.

use super::{parsed_serde, string_enum, ParseError, Slug};

string_enum!(
    /// Where an instance is in its life.
    InstanceState, "instance state" {
        Draft = "draft",
        Provisioning = "provisioning",
        Active = "active",
        Paused = "paused",
        /// Its database moves between servers; its address shows a maintenance page.
        Migrating = "migrating",
        Decommissioning = "decommissioning",
        Decommissioned = "decommissioned",
        Error = "error",
    }
);

string_enum!(
    /// Something done to an instance, with a live log, audited.
    OperationKind, "operation" {
        Provision = "provision",
        Pause = "pause",
        Resume = "resume",
        Restart = "restart",
        Redeploy = "redeploy",
        Backup = "backup",
        Restore = "restore",
        MigrateDatabase = "migrate_database",
        Decommission = "decommission",
        ApplyBundle = "apply_bundle",
    }
);

string_enum!(
    /// Where an operation is.
    OperationState, "operation state" {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
);

string_enum!(
    /// Where an instance's database lives.
    DbStrategy, "database strategy" {
        /// A database on the platform's shared PostgreSQL server, with a role that reaches only it.
        Shared = "shared",
        /// The instance's own PostgreSQL server, reachable only from its network.
        Dedicated = "dedicated",
    }
);

string_enum!(
    /// How close an instance is to its plan's storage.
    QuotaLevel, "quota level" {
        /// Under 80 %.
        Ok = "ok",
        /// From 80 %: its tenant's admins are told.
        Warning = "warning",
        /// From 100 %: what would add data is refused.
        Exceeded = "exceeded",
    }
);

/// The level of `used` against `limit` (bytes): warning from 80 %, exceeded from 100 %.
pub fn quota_level(used: u64, limit: u64) -> QuotaLevel {
    if limit == 0 || used >= limit {
        QuotaLevel::Exceeded
    } else if used.saturating_mul(5) >= limit.saturating_mul(4) {
        QuotaLevel::Warning
    } else {
        QuotaLevel::Ok
    }
}

impl DbStrategy {
    /// The other strategy: where a database move goes when none is named.
    pub fn other(self) -> DbStrategy {
        match self {
            DbStrategy::Shared => DbStrategy::Dedicated,
            DbStrategy::Dedicated => DbStrategy::Shared,
        }
    }
}

impl InstanceState {
    /// Whether an operation is under way (the instance is not at rest).
    pub fn working(self) -> bool {
        matches!(self, InstanceState::Provisioning | InstanceState::Migrating | InstanceState::Decommissioning)
    }

    /// Whether the instance has (or may still have) containers, a database or a filestore.
    pub fn holds_resources(self) -> bool {
        !matches!(self, InstanceState::Draft | InstanceState::Decommissioned)
    }
}

impl OperationKind {
    /// The states this operation may start from.
    pub fn starts_from(self) -> &'static [InstanceState] {
        use InstanceState::*;
        match self {
            // A failed provisioning is retried by provisioning again.
            OperationKind::Provision => &[Draft, Error],
            OperationKind::Pause => &[Active],
            OperationKind::Resume => &[Paused],
            OperationKind::Restart => &[Active, Error],
            OperationKind::Redeploy => &[Active, Paused, Error],
            OperationKind::Backup => &[Active, Paused],
            OperationKind::Restore => &[Active, Paused, Error],
            OperationKind::MigrateDatabase => &[Active, Paused],
            // Modules are added to a database that serves (backed up first).
            OperationKind::ApplyBundle => &[Active],
            // Decommissioning is retried from where a failed one left the instance (error).
            OperationKind::Decommission => &[Draft, Active, Paused, Error],
        }
    }

    /// Whether it may start from `state`.
    pub fn allowed_from(self, state: InstanceState) -> bool {
        self.starts_from().contains(&state)
    }

    /// The state the instance is in while the operation runs.
    pub fn running_state(self, from: InstanceState) -> InstanceState {
        match self {
            OperationKind::Provision => InstanceState::Provisioning,
            OperationKind::Decommission => InstanceState::Decommissioning,
            OperationKind::MigrateDatabase => InstanceState::Migrating,
            _ => from,
        }
    }

    /// Where the instance ends when the operation succeeds.
    pub fn success_state(self, from: InstanceState) -> InstanceState {
        use InstanceState::*;
        match self {
            OperationKind::Provision | OperationKind::Resume | OperationKind::Restart => Active,
            OperationKind::Redeploy | OperationKind::Restore | OperationKind::ApplyBundle => Active,
            OperationKind::Pause => Paused,
            OperationKind::Backup | OperationKind::MigrateDatabase => from,
            OperationKind::Decommission => Decommissioned,
        }
    }

    /// Where the instance ends when the operation fails. A failed backup, a
    /// database migration that reverted, or a bundle that did not install (the
    /// build before it keeps serving) leaves the instance as it was; every
    /// other failure is an error with its reason shown.
    pub fn failure_state(self, from: InstanceState) -> InstanceState {
        match self {
            OperationKind::Backup | OperationKind::MigrateDatabase | OperationKind::ApplyBundle => from,
            _ => InstanceState::Error,
        }
    }

    /// The operations offered on an instance in `state`.
    pub fn offered(state: InstanceState) -> Vec<OperationKind> {
        OperationKind::ALL.iter().copied().filter(|k| k.allowed_from(state)).collect()
    }
}

/// What the database strategy is recommended from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrategyNeeds<'a> {
    /// The plan's name (`starter`, `standard`, `business`, `enterprise`, …).
    pub plan: &'a str,
    /// A compliance requirement: the data must not share a server.
    pub dedicated_required: bool,
    /// Expected database size, in GB.
    pub expected_size_gb: u32,
    /// Expected users working at the same time.
    pub expected_users: u32,
}

/// Plans whose instances get their own server.
pub const DEDICATED_PLANS: &[&str] = &["enterprise", "dedicated", "premium"];
/// From this expected size (GB), a database gets its own server.
pub const DEDICATED_FROM_GB: u32 = 20;
/// From this many users at once, a database gets its own server.
pub const DEDICATED_FROM_USERS: u32 = 50;

/// The documented rule for where an instance's database lives, and why:
/// a compliance requirement, a plan that includes its own server, a large
/// database or many users at once each call for a dedicated server (its own
/// memory, no neighbours); everything else shares a server, which costs far
/// less. Platform staff may override it.
pub fn recommend_strategy(n: StrategyNeeds<'_>) -> (DbStrategy, &'static str) {
    if n.dedicated_required {
        (DbStrategy::Dedicated, "compliance requires that the data not share a server")
    } else if DEDICATED_PLANS.contains(&n.plan) {
        (DbStrategy::Dedicated, "the plan includes its own PostgreSQL server")
    } else if n.expected_size_gb >= DEDICATED_FROM_GB {
        (DbStrategy::Dedicated, "a database this large would crowd its neighbours on a shared server")
    } else if n.expected_users >= DEDICATED_FROM_USERS {
        (DbStrategy::Dedicated, "this many users at once need the server's memory to themselves")
    } else {
        (DbStrategy::Shared, "a small or medium workspace runs well, and costs least, on the shared server")
    }
}

/// Subdomains an instance may never take: the console's and mail's names,
/// and anything shaped like a build preview (`b12-shop`).
pub const RESERVED_SUBDOMAINS: &[&str] = &[
    "www",
    "api",
    "admin",
    "mail",
    "console",
    "app",
    "smtp",
    "imap",
    "ftp",
    "ns1",
    "ns2",
    "status",
    "traefik",
    "registry",
    "localhost",
    "odooops",
    "static",
    "assets",
    "help",
    "support",
    "billing",
];

/// An instance's subdomain: a slug (DNS label rules), not reserved, not a preview's shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subdomain(String);

impl Subdomain {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_ascii_lowercase();
        let slug = Slug::parse(&s).map_err(|e| ParseError::new("subdomain", e.reason))?;
        if RESERVED_SUBDOMAINS.contains(&slug.as_str()) {
            return Err(ParseError::new("subdomain", format!("`{s}` is reserved; choose another name")));
        }
        let preview_shaped = s
            .strip_prefix('b')
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if preview_shaped {
            return Err(ParseError::new("subdomain", "names like b12-… are build previews; choose another name"));
        }
        Ok(Subdomain(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
parsed_serde!(Subdomain);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_refuse_reserved_and_preview_shaped_names() {
        assert_eq!(Subdomain::parse("Acme-Shop").unwrap().as_str(), "acme-shop");
        for bad in ["www", "api", "admin", "mail", "console", "b12-shop", "b1-x", "a", "-x", "acme_shop", "é"] {
            assert!(Subdomain::parse(bad).is_err(), "{bad}");
        }
        assert!(Subdomain::parse("bakery").is_ok());
        assert!(Subdomain::parse("b2b-store").is_ok(), "b2b-… is not a preview number");
    }

    #[test]
    fn quota_levels_turn_at_80_and_100_percent() {
        assert_eq!(quota_level(79, 100), QuotaLevel::Ok);
        assert_eq!(quota_level(80, 100), QuotaLevel::Warning);
        assert_eq!(quota_level(99, 100), QuotaLevel::Warning);
        assert_eq!(quota_level(100, 100), QuotaLevel::Exceeded);
        assert_eq!(quota_level(1, 0), QuotaLevel::Exceeded);
        assert_eq!(quota_level(u64::MAX, u64::MAX - 1), QuotaLevel::Exceeded);
    }

    #[test]
    fn a_move_goes_to_the_other_strategy() {
        assert_eq!(DbStrategy::Shared.other(), DbStrategy::Dedicated);
        assert_eq!(DbStrategy::Dedicated.other(), DbStrategy::Shared);
    }

    #[test]
    fn the_strategy_rule_gives_a_reason_for_each_branch() {
        let small = StrategyNeeds { plan: "starter", ..Default::default() };
        assert_eq!(recommend_strategy(small).0, DbStrategy::Shared);
        for needs in [
            StrategyNeeds { dedicated_required: true, ..small },
            StrategyNeeds { plan: "enterprise", ..small },
            StrategyNeeds { expected_size_gb: DEDICATED_FROM_GB, ..small },
            StrategyNeeds { expected_users: DEDICATED_FROM_USERS, ..small },
        ] {
            let (s, why) = recommend_strategy(needs);
            assert_eq!(s, DbStrategy::Dedicated, "{needs:?}");
            assert!(!why.is_empty());
        }
        assert_eq!(
            recommend_strategy(StrategyNeeds { expected_size_gb: DEDICATED_FROM_GB - 1, ..small }).0,
            DbStrategy::Shared
        );
    }

    #[test]
    fn decommissioned_is_terminal_and_error_is_left_only_by_an_operation() {
        for k in OperationKind::ALL {
            assert!(!k.allowed_from(InstanceState::Decommissioned), "{k:?}");
            for working in [InstanceState::Provisioning, InstanceState::Migrating, InstanceState::Decommissioning] {
                assert!(!k.allowed_from(working), "{k:?} from {working:?}");
            }
        }
        assert_eq!(
            OperationKind::offered(InstanceState::Draft),
            vec![OperationKind::Provision, OperationKind::Decommission]
        );
        assert!(OperationKind::offered(InstanceState::Error).contains(&OperationKind::Provision));
    }

    /// What an instance owns in the model: a serving container, a database.
    #[derive(Debug, Default, Clone, Copy)]
    struct Owned {
        container: bool,
        database: bool,
    }

    /// The executor's effects, as `run` carries them out: what a successful or
    /// failed operation leaves. A failure may leave anything half-done.
    fn effects(kind: OperationKind, ok: bool, partial: bool, o: &mut Owned) {
        use OperationKind::*;
        match (kind, ok) {
            (Provision | Redeploy | Restart | Resume | Restore, true) => *o = Owned { container: true, database: true },
            (Provision | Redeploy | Restart | Resume | Restore, false) => o.database |= partial,
            (Pause, true) => o.container = false,
            (Decommission, true) => *o = Owned::default(),
            (Decommission, false) => o.container &= partial,
            _ => {}
        }
    }

    proptest::proptest! {
        #[test]
        fn random_operation_sequences_never_reach_an_illegal_state_or_leave_an_orphan(
            steps in proptest::collection::vec((0usize..9, proptest::bool::ANY, proptest::bool::ANY), 0..60)
        ) {
            let mut state = InstanceState::Draft;
            let mut owned = Owned::default();
            for (k, ok, partial) in steps {
                let kind = OperationKind::ALL[k];
                if !kind.allowed_from(state) {
                    // Refused: nothing moves.
                    continue;
                }
                let running = kind.running_state(state);
                proptest::prop_assert!(InstanceState::ALL.contains(&running));
                effects(kind, ok, partial, &mut owned);
                let next = if ok { kind.success_state(state) } else { kind.failure_state(state) };
                proptest::prop_assert!(!next.working(), "{kind:?} left the instance {next:?}");
                if state == InstanceState::Decommissioned {
                    proptest::prop_assert!(false, "an operation ran on a decommissioned instance");
                }
                state = next;
                if !state.holds_resources() {
                    proptest::prop_assert!(!owned.container && !owned.database, "{state:?} with {owned:?}");
                }
                if state == InstanceState::Paused {
                    proptest::prop_assert!(!owned.container, "a paused instance serves nothing");
                }
                if state == InstanceState::Active {
                    proptest::prop_assert!(owned.database, "an active instance has its database");
                }
            }
            // Whatever happened, decommissioning until it succeeds leaves nothing.
            if state != InstanceState::Decommissioned {
                proptest::prop_assert!(OperationKind::Decommission.allowed_from(state), "stuck in {state:?}");
                effects(OperationKind::Decommission, true, false, &mut owned);
                state = OperationKind::Decommission.success_state(state);
            }
            proptest::prop_assert_eq!(state, InstanceState::Decommissioned);
            proptest::prop_assert!(!owned.container && !owned.database);
        }
    }
}
