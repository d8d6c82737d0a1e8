//! Stable addresses: the DNS label an environment keeps across its builds
//! (`<project>` for production, `<branch>-<project>` for the others), under
//! the preview domain. Pure, so the browser shows the same name the server
//! claims. The candidates go, in order, to the database, which takes the
//! first one no other environment or instance holds.

use super::instance::RESERVED_SUBDOMAINS;

/// The longest DNS label.
const MAX_LABEL: usize = 63;

/// `s` as a DNS label: lowercase ASCII letters and digits, every other run
/// of characters one `-`, no `-` at either end, at most `max` characters.
pub fn dns_label(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(max);
    out.trim_end_matches('-').to_owned()
}

/// Whether `label` has a build preview's shape (`b12-shop`): those names are the previews'.
fn preview_shaped(label: &str) -> bool {
    label
        .strip_prefix('b')
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// One candidate made safe: within a label's length (the tail `suffix` kept
/// whole), not reserved, not a preview's shape.
fn fit(head: &str, suffix: &str) -> String {
    let room = MAX_LABEL.saturating_sub(suffix.len());
    let head = dns_label(head, room);
    let mut label = if head.is_empty() { suffix.trim_start_matches('-').to_owned() } else { format!("{head}{suffix}") };
    if preview_shaped(&label) || RESERVED_SUBDOMAINS.contains(&label.as_str()) {
        label = dns_label(&format!("p-{label}"), MAX_LABEL);
    }
    label
}

/// The labels an environment may take, best first: the plain name, then
/// with the tenant's slug, then with a piece of the environment's id (which
/// no one else has). `branch` is `None` for production.
pub fn stable_label_candidates(project: &str, tenant: &str, branch: Option<&str>, env_id: &str) -> Vec<String> {
    let project = dns_label(project, MAX_LABEL);
    let tenant = dns_label(tenant, 20);
    let unique: String =
        env_id.chars().filter(char::is_ascii_hexdigit).take(8).collect::<String>().to_ascii_lowercase();
    let head = match branch {
        None => String::new(),
        Some(b) => format!("{}-", dns_label(b, 40)),
    };
    let mut out: Vec<String> = [
        fit(&format!("{head}{project}"), ""),
        fit(&format!("{head}{project}"), &format!("-{tenant}")),
        fit(&format!("{head}{project}"), &format!("-{unique}")),
    ]
    .into_iter()
    .filter(|l| !l.is_empty())
    .collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_takes_the_project_then_the_tenant_then_the_id() {
        assert_eq!(
            stable_label_candidates("shop", "acme", None, "0a1b2c3d-0000-0000-0000-000000000000"),
            vec!["shop", "shop-acme", "shop-0a1b2c3d"]
        );
    }

    #[test]
    fn branches_become_dns_labels() {
        let c = stable_label_candidates("shop", "acme", Some("feature/Add_Invoice.v2"), "ffffffff");
        assert_eq!(c[0], "feature-add-invoice-v2-shop");
        let long = "x".repeat(200);
        for l in stable_label_candidates(&long, "acme", Some(&long), "12345678") {
            assert!(l.len() <= 63, "{l}");
            assert!(!l.ends_with('-') && !l.starts_with('-'), "{l}");
        }
    }

    #[test]
    fn preview_shapes_and_reserved_names_are_never_candidates() {
        let c = stable_label_candidates("b12-shop", "acme", None, "12345678");
        assert!(c.iter().all(|l| !preview_shaped(l)), "{c:?}");
        let c = stable_label_candidates("www", "acme", None, "12345678");
        assert_ne!(c[0], "www");
        // A hostile branch name gives a label with nothing but letters, digits and dashes.
        let c = stable_label_candidates("shop", "acme", Some("../../etc/passwd\n<script>"), "1");
        assert!(c.iter().all(|l| l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')));
    }
}
