//! The pipeline as a pure plan: what a build does follows from its stage and
//! its source alone (a push builds its code, a promotion or rollback deploys
//! an image that exists, a restore loads a backup; development runs tests,
//! staging copies production, production changes in place), decided here and
//! table-tested, then followed by the phases. A build's source is set when it
//! is queued, with everything it needs, and never patched afterwards.

use crate::types::Stage;
use uuid::Uuid;

/// Why a build runs, with what that needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Push,
    PullRequest,
    Poll,
    /// Queued through the API.
    Api,
    Rebuild,
    /// A backup loaded into a new database, the branch's code on top.
    Restore {
        backup: Uuid,
    },
    /// The image a staging build was tested with, deployed to production.
    Promote {
        image_from: Uuid,
        promotion: Uuid,
    },
    /// An earlier production image redeployed, with a backup of production or on the database as it is.
    Rollback {
        image_from: Uuid,
        backup: Option<Uuid>,
        promotion: Option<Uuid>,
    },
    /// A tenant instance's operation (provision, redeploy, restart, resume,
    /// restore): its image from the Odoo version and the bundle's modules, no
    /// repository; its database kept, or loaded from a backup.
    Instance {
        restore: Option<Uuid>,
    },
    /// The upgrade advisor's preview: the target series' image and the
    /// project's target branch on a neutralized copy of production, `-u all`
    /// and the tests (its report is `ops.upgrade_previews`, found by build).
    UpgradePreview,
}

impl Source {
    /// A source that needs nothing but its name (`push`, `pull_request`, `poll`, `api`, `rebuild`).
    pub fn simple(trigger: &str) -> Option<Source> {
        Some(match trigger {
            "push" => Source::Push,
            "pull_request" => Source::PullRequest,
            "poll" => Source::Poll,
            "api" => Source::Api,
            "rebuild" => Source::Rebuild,
            "upgrade_preview" => Source::UpgradePreview,
            _ => return None,
        })
    }

    /// From a stored build row; `Err` names what is inconsistent.
    pub fn from_row(
        trigger: &str,
        restore_from: Option<Uuid>,
        image_from: Option<Uuid>,
        promotion: Option<Uuid>,
    ) -> anyhow::Result<Source> {
        Ok(match (trigger, restore_from, image_from, promotion) {
            ("restore", Some(backup), None, _) => Source::Restore { backup },
            ("promote", None, Some(image_from), Some(promotion)) => Source::Promote { image_from, promotion },
            ("rollback", backup, Some(image_from), promotion) => Source::Rollback { image_from, backup, promotion },
            ("instance", restore, None, None) => Source::Instance { restore },
            (t, None, None, _) => Source::simple(t).ok_or_else(|| anyhow::anyhow!("unknown build trigger {t:?}"))?,
            (t, ..) => anyhow::bail!("a {t} build with inconsistent sources"),
        })
    }

    /// The word stored in `ops.builds.trigger` and shown in the API.
    pub fn trigger(&self) -> &'static str {
        match self {
            Source::Push => "push",
            Source::PullRequest => "pull_request",
            Source::Poll => "poll",
            Source::Api => "api",
            Source::Rebuild => "rebuild",
            Source::Restore { .. } => "restore",
            Source::Promote { .. } => "promote",
            Source::Rollback { .. } => "rollback",
            Source::Instance { .. } => "instance",
            Source::UpgradePreview => "upgrade_preview",
        }
    }

    pub fn restore_from(&self) -> Option<Uuid> {
        match *self {
            Source::Restore { backup } => Some(backup),
            Source::Rollback { backup, .. } | Source::Instance { restore: backup } => backup,
            _ => None,
        }
    }

    pub fn image_from(&self) -> Option<Uuid> {
        match *self {
            Source::Promote { image_from, .. } | Source::Rollback { image_from, .. } => Some(image_from),
            _ => None,
        }
    }

    pub fn promotion(&self) -> Option<Uuid> {
        match *self {
            Source::Promote { promotion, .. } => Some(promotion),
            Source::Rollback { promotion, .. } => promotion,
            _ => None,
        }
    }
}

/// Where the build's image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Checked out, its addons discovered, its image built.
    Build,
    /// The image of an earlier build, which must still be there.
    Deploy { from: Uuid },
    /// Made from the Odoo version's image for a tenant instance; its modules come from the bundle.
    Bundle,
}

/// What the database phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A new, empty database (development).
    Empty,
    /// A fresh, neutralized copy of production (staging; empty while production has none).
    CopyOfProduction,
    /// A backup loaded into a new database (neutralized outside production).
    Restore { backup: Uuid },
    /// Production's own database, backed up before it changes.
    InPlace,
}

/// The phases, in order, as the build log names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Checkout,
    Discover,
    Image,
    Database,
    Install,
    Start,
    Health,
    Route,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Checkout => "checkout",
            Phase::Discover => "discover",
            Phase::Image => "image",
            Phase::Database => "database",
            Phase::Install => "install",
            Phase::Start => "start",
            Phase::Health => "health",
            Phase::Route => "route",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub code: Code,
    pub database: Database,
    /// `--test-enable` during install.
    pub tests: bool,
    pub phases: Vec<Phase>,
}

/// What a build of `stage` queued by `source` does.
pub fn plan(stage: Stage, source: Source) -> Plan {
    let code = match (source, source.image_from()) {
        (Source::Instance { .. }, _) => Code::Bundle,
        (_, Some(from)) => Code::Deploy { from },
        (_, None) => Code::Build,
    };
    let database = match (source.restore_from(), stage) {
        (Some(backup), _) => Database::Restore { backup },
        (None, Stage::Production) => Database::InPlace,
        (None, Stage::Staging) => Database::CopyOfProduction,
        (None, Stage::Development) => Database::Empty,
    };
    let mut phases = match code {
        Code::Build => vec![Phase::Checkout, Phase::Discover, Phase::Image],
        Code::Deploy { .. } | Code::Bundle => vec![Phase::Image],
    };
    phases.extend([Phase::Database, Phase::Install, Phase::Start, Phase::Health, Phase::Route]);
    let tests = stage == Stage::Development || source == Source::UpgradePreview;
    Plan { code, database, tests, phases }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILT: &[Phase] = &[
        Phase::Checkout,
        Phase::Discover,
        Phase::Image,
        Phase::Database,
        Phase::Install,
        Phase::Start,
        Phase::Health,
        Phase::Route,
    ];
    /// Stage × source → the plan's code, database, tests and phases.
    type Row = (Stage, Source, Code, Database, bool, &'static [Phase]);

    const DEPLOYED: &[Phase] =
        &[Phase::Image, Phase::Database, Phase::Install, Phase::Start, Phase::Health, Phase::Route];

    #[test]
    fn every_stage_and_source_has_its_plan() {
        let (b, i, p) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        use Database::*;
        use Stage::*;
        let table: &[Row] = &[
            (Development, Source::Push, Code::Build, Empty, true, BUILT),
            (Development, Source::PullRequest, Code::Build, Empty, true, BUILT),
            (Development, Source::Poll, Code::Build, Empty, true, BUILT),
            (Development, Source::Rebuild, Code::Build, Empty, true, BUILT),
            (Development, Source::Restore { backup: b }, Code::Build, Restore { backup: b }, true, BUILT),
            (Staging, Source::Push, Code::Build, CopyOfProduction, false, BUILT),
            (Staging, Source::Api, Code::Build, CopyOfProduction, false, BUILT),
            (Staging, Source::Restore { backup: b }, Code::Build, Restore { backup: b }, false, BUILT),
            (Production, Source::Push, Code::Build, InPlace, false, BUILT),
            (Production, Source::Rebuild, Code::Build, InPlace, false, BUILT),
            (Production, Source::Restore { backup: b }, Code::Build, Restore { backup: b }, false, BUILT),
            (
                Production,
                Source::Promote { image_from: i, promotion: p },
                Code::Deploy { from: i },
                InPlace,
                false,
                DEPLOYED,
            ),
            (
                Production,
                Source::Rollback { image_from: i, backup: None, promotion: Some(p) },
                Code::Deploy { from: i },
                InPlace,
                false,
                DEPLOYED,
            ),
            (
                Production,
                Source::Rollback { image_from: i, backup: Some(b), promotion: None },
                Code::Deploy { from: i },
                Restore { backup: b },
                false,
                DEPLOYED,
            ),
            (Production, Source::Instance { restore: None }, Code::Bundle, InPlace, false, DEPLOYED),
            (Production, Source::Instance { restore: Some(b) }, Code::Bundle, Restore { backup: b }, false, DEPLOYED),
            (Staging, Source::UpgradePreview, Code::Build, CopyOfProduction, true, BUILT),
        ];
        for (stage, source, code, database, tests, phases) in table {
            let got = plan(*stage, *source);
            let want = Plan { code: *code, database: *database, tests: *tests, phases: phases.to_vec() };
            assert_eq!(got, want, "{stage:?} × {source:?}");
        }
    }

    #[test]
    fn sources_round_trip_through_their_row() {
        let (b, i, p) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        for s in [
            Source::Push,
            Source::PullRequest,
            Source::Poll,
            Source::Api,
            Source::Rebuild,
            Source::Restore { backup: b },
            Source::Promote { image_from: i, promotion: p },
            Source::Rollback { image_from: i, backup: Some(b), promotion: Some(p) },
            Source::Rollback { image_from: i, backup: None, promotion: None },
            Source::Instance { restore: None },
            Source::Instance { restore: Some(b) },
            Source::UpgradePreview,
        ] {
            let back = Source::from_row(s.trigger(), s.restore_from(), s.image_from(), s.promotion()).unwrap();
            assert_eq!(back, s);
        }
        assert!(Source::from_row("promote", None, None, None).is_err(), "a promotion names its image");
        assert!(Source::from_row("push", Some(b), None, None).is_err(), "a push restores nothing");
        assert!(Source::from_row("deploy", None, None, None).is_err());
    }
}
