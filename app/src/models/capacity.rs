//! The dashboard's capacity meters and the operation drawer's wording, out
//! of the components so plain tests reach them.

use domain::wire::{FleetCapacity, FleetOperation};

/// One meter: what is used of what there is.
#[derive(Debug, Clone, PartialEq)]
pub struct Meter {
    pub label: &'static str,
    pub text: String,
    /// Used against total, in percent (may pass 100: overcommitted).
    pub percent: u32,
    /// `ok`, `warn` (80 % or more) or `ko` (over 100 %).
    pub level: &'static str,
}

fn meter(label: &'static str, used: f64, total: f64, text: String) -> Meter {
    let percent = if total > 0.0 { (used / total * 100.0).round().max(0.0) as u32 } else { 0 };
    let level = match percent {
        p if p > 100 => "ko",
        p if p >= 80 => "warn",
        _ => "ok",
    };
    Meter { label, text, percent, level }
}

fn gib(mb: f64) -> String {
    format!("{:.1} GiB", mb / 1024.0)
}

/// CPU and memory the live instances' plans reserve against the runtime's,
/// and storage used against what the plans allot.
pub fn capacity_meters(c: &FleetCapacity) -> Vec<Meter> {
    let used_mb = c.storage_used_bytes as f64 / f64::from(1 << 20);
    vec![
        meter(
            "CPU reserved",
            c.cpu_reserved,
            c.cpu_total,
            format!("{:.1} of {:.0} cores", c.cpu_reserved, c.cpu_total),
        ),
        meter(
            "Memory reserved",
            c.memory_reserved_mb as f64,
            c.memory_total_mb as f64,
            format!("{} of {}", gib(c.memory_reserved_mb as f64), gib(c.memory_total_mb as f64)),
        ),
        meter(
            "Storage used",
            used_mb,
            c.storage_allotted_mb as f64,
            format!("{} of {} allotted", gib(used_mb), gib(c.storage_allotted_mb as f64)),
        ),
    ]
}

/// How long an operation took, or has been running for (`now` for the latter).
pub fn operation_took(o: &FleetOperation, now: chrono::DateTime<chrono::Utc>) -> String {
    let end = o.finished_at.unwrap_or(now);
    let secs = (end - o.created_at).num_seconds().max(0);
    let text = if secs < 120 { format!("{secs} s") } else { format!("{} min", secs / 60) };
    if o.finished_at.is_some() {
        text
    } else {
        format!("{text} so far")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meters_say_what_is_used_of_what_there_is() {
        let c = FleetCapacity {
            running: 3,
            cpu_reserved: 3.0,
            memory_reserved_mb: 3584,
            cpu_total: 2.0,
            memory_total_mb: 24576,
            storage_allotted_mb: 10240,
            storage_used_bytes: 9 << 30,
            runtime: "Docker 28".into(),
        };
        let m = capacity_meters(&c);
        assert_eq!((m[0].percent, m[0].level, m[0].text.as_str()), (150, "ko", "3.0 of 2 cores"));
        assert_eq!((m[1].percent, m[1].level), (15, "ok"));
        assert_eq!((m[2].percent, m[2].level, m[2].text.as_str()), (90, "warn", "9.0 GiB of 10.0 GiB allotted"));
        let unknown = FleetCapacity { cpu_total: 0.0, ..c };
        assert_eq!(capacity_meters(&unknown)[0].percent, 0);
    }

    #[test]
    fn durations_read_in_seconds_then_minutes() {
        let t0 = chrono::Utc::now();
        let o = FleetOperation {
            id: uuid::Uuid::nil(),
            instance_id: uuid::Uuid::nil(),
            instance: "acme".into(),
            tenant_slug: "acme".into(),
            kind: "provision".into(),
            state: "done".into(),
            error: None,
            build_id: None,
            created_at: t0,
            finished_at: Some(t0 + chrono::Duration::seconds(42)),
        };
        assert_eq!(operation_took(&o, t0), "42 s");
        let running = FleetOperation { finished_at: None, ..o };
        assert_eq!(operation_took(&running, t0 + chrono::Duration::minutes(5)), "5 min so far");
    }
}
