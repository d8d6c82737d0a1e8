//! Grandfather-father-son retention as a pure function: which backups of one
//! environment to keep and which to prune. Kept: the newest good backup of
//! each of the last `daily` days, `weekly` ISO weeks and `monthly` months
//! that have one; the newest good backup whatever happens; anything a
//! restore is using; and anything younger than a day (a manual backup is
//! never gone the hour it was taken). Failed backups hold no data and go
//! after a week.

use chrono::{DateTime, Datelike, Duration, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// What pruning needs to know of a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Finished and stored (not failed, not still running).
    pub good: bool,
    /// A pending or running restore or drill reads it.
    pub in_use: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { daily: 7, weekly: 4, monthly: 3 }
    }
}

/// Which rule keeps a backup (a backup may be kept by several).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub daily: BTreeSet<Uuid>,
    pub weekly: BTreeSet<Uuid>,
    pub monthly: BTreeSet<Uuid>,
    /// Kept for another reason: newest, in use, younger than a day, failed but recent.
    pub other: BTreeSet<Uuid>,
    pub prune: Vec<Uuid>,
}

impl Plan {
    pub fn keeps(&self, id: &Uuid) -> bool {
        self.daily.contains(id) || self.weekly.contains(id) || self.monthly.contains(id) || self.other.contains(id)
    }
}

/// Newest good backup of each of the first `n` distinct buckets, newest first.
fn newest_per_bucket<K: PartialEq>(good: &[&Candidate], n: u32, key: impl Fn(&Candidate) -> K) -> BTreeSet<Uuid> {
    let mut kept = BTreeSet::new();
    let mut last: Option<K> = None;
    for c in good {
        if kept.len() as u32 >= n {
            break;
        }
        let k = key(c);
        if last.as_ref() != Some(&k) {
            kept.insert(c.id);
            last = Some(k);
        }
    }
    kept
}

pub fn plan(backups: &[Candidate], policy: Policy, now: DateTime<Utc>) -> Plan {
    let mut good: Vec<&Candidate> = backups.iter().filter(|c| c.good).collect();
    good.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let mut plan = Plan {
        daily: newest_per_bucket(&good, policy.daily, |c| c.created_at.date_naive()),
        weekly: newest_per_bucket(&good, policy.weekly, |c| {
            let w = c.created_at.iso_week();
            (w.year(), w.week())
        }),
        monthly: newest_per_bucket(&good, policy.monthly, |c| (c.created_at.year(), c.created_at.month())),
        ..Plan::default()
    };
    if let Some(newest) = good.first() {
        plan.other.insert(newest.id);
    }
    for c in backups {
        let young = now - c.created_at < Duration::days(if c.good { 1 } else { 7 });
        if c.in_use || young {
            plan.other.insert(c.id);
        }
    }
    plan.prune = backups.iter().filter(|c| !plan.keeps(&c.id)).map(|c| c.id).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(day: i64, hour: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::days(day) + Duration::hours(hour)
    }

    fn good(n: u128, t: DateTime<Utc>) -> Candidate {
        Candidate { id: Uuid::from_u128(n), created_at: t, good: true, in_use: false }
    }

    /// A nightly backup for `days` days, pruned after each one, as the scheduler does.
    fn simulate(days: i64, policy: Policy) -> Vec<Candidate> {
        let mut kept: Vec<Candidate> = Vec::new();
        for d in 0..days {
            kept.push(good(d as u128 + 1, at(d, 3)));
            let p = plan(&kept, policy, at(d, 3) + Duration::minutes(5));
            kept.retain(|c| p.keeps(&c.id));
        }
        kept
    }

    #[test]
    fn a_long_nightly_series_keeps_exactly_7_days_4_weeks_3_months() {
        let kept = simulate(400, Policy::default());
        let now = at(399, 3) + Duration::minutes(5);
        let p = plan(&kept, Policy::default(), now);
        assert!(p.prune.is_empty(), "pruning twice prunes nothing more");
        assert_eq!(p.daily.len(), 7);
        assert_eq!(p.weekly.len(), 4);
        assert_eq!(p.monthly.len(), 3);
        let days: BTreeSet<_> = kept.iter().map(|c| c.created_at.date_naive()).collect();
        for d in 393..400 {
            assert!(days.contains(&at(d, 3).date_naive()), "day {d} is kept");
        }
        assert!(kept.len() <= 14, "{} kept", kept.len());
    }

    #[test]
    fn the_only_good_backup_survives_however_old() {
        let old = good(1, at(0, 3));
        let failed = Candidate { id: Uuid::from_u128(2), created_at: at(1, 3), good: false, in_use: false };
        let p = plan(&[old, failed], Policy { daily: 1, weekly: 0, monthly: 0 }, at(900, 0));
        assert_eq!(p.prune, vec![failed.id]);
    }

    #[test]
    fn a_manual_backup_lives_at_least_a_day() {
        let morning = good(1, at(10, 9));
        let night = good(2, at(10, 23));
        let p = plan(&[morning, night], Policy::default(), at(11, 0));
        assert!(p.prune.is_empty());
        let p = plan(&[morning, night], Policy::default(), at(11, 10));
        assert_eq!(p.prune, vec![morning.id], "the older of two on one day goes after a day");
    }

    fn arb_backups() -> impl Strategy<Value = Vec<Candidate>> {
        prop::collection::vec((0i64..600 * 24, any::<bool>(), prop::bool::weighted(0.05)), 0..120).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (hours, ok, used))| Candidate {
                    id: Uuid::from_u128(i as u128 + 1),
                    created_at: at(0, 0) + Duration::hours(hours),
                    good: ok || i % 3 == 0,
                    in_use: used,
                })
                .collect()
        })
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        (1u32..10, 0u32..6, 0u32..5).prop_map(|(daily, weekly, monthly)| Policy { daily, weekly, monthly })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn never_prunes_in_use_or_the_newest_good(bs in arb_backups(), policy in arb_policy(), extra in 0i64..100) {
            let now = at(600, 0) + Duration::days(extra);
            let p = plan(&bs, policy, now);
            for c in &bs {
                if c.in_use {
                    prop_assert!(!p.prune.contains(&c.id));
                }
            }
            let any_good = bs.iter().any(|c| c.good);
            let kept_good = bs.iter().any(|c| c.good && !p.prune.contains(&c.id));
            prop_assert_eq!(any_good, kept_good);
        }

        #[test]
        fn pruning_is_idempotent(bs in arb_backups(), policy in arb_policy()) {
            let now = at(600, 0);
            let p = plan(&bs, policy, now);
            let rest: Vec<Candidate> = bs.iter().filter(|c| !p.prune.contains(&c.id)).copied().collect();
            prop_assert!(plan(&rest, policy, now).prune.is_empty());
        }

        #[test]
        fn buckets_hold_at_most_the_policy(bs in arb_backups(), policy in arb_policy()) {
            let p = plan(&bs, policy, at(600, 0));
            prop_assert!(p.daily.len() as u32 <= policy.daily);
            prop_assert!(p.weekly.len() as u32 <= policy.weekly);
            prop_assert!(p.monthly.len() as u32 <= policy.monthly);
            // Only good backups fill buckets.
            for id in p.daily.iter().chain(&p.weekly).chain(&p.monthly) {
                prop_assert!(bs.iter().any(|c| c.id == *id && c.good));
            }
        }

        #[test]
        fn nightly_runs_of_any_length_keep_the_policy_exactly(days in 1i64..500, policy in arb_policy()) {
            let kept = simulate(days, policy);
            let p = plan(&kept, policy, at(days - 1, 3) + Duration::minutes(5));
            let distinct_days = days as usize;
            prop_assert_eq!(p.daily.len(), distinct_days.min(policy.daily as usize));
            let weeks: BTreeSet<_> = (0..days).map(|d| { let w = at(d, 3).iso_week(); (w.year(), w.week()) }).collect();
            prop_assert_eq!(p.weekly.len(), weeks.len().min(policy.weekly as usize));
            let months: BTreeSet<_> = (0..days).map(|d| (at(d, 3).year(), at(d, 3).month())).collect();
            prop_assert_eq!(p.monthly.len(), months.len().min(policy.monthly as usize));
            prop_assert!(kept.len() as u32 <= policy.daily + policy.weekly + policy.monthly);
        }
    }
}
