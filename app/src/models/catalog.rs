//! What the catalog and bundle pages show, kept out of the components so
//! plain tests reach it: origin labels, page counts, a closure's summary.

use domain::types::{Closure, Origin};

/// How a module got into a closure, as the bundle editor says it.
pub fn origin_label(o: Origin) -> &'static str {
    match o {
        Origin::Chosen => "chosen",
        Origin::Dependency => "added by dependency",
        Origin::Odoo => "Odoo's own",
    }
}

/// "page 2 of 5" from an offset, a page size and a total.
pub fn page_text(offset: i64, per_page: i64, total: i64) -> String {
    let pages = ((total + per_page - 1) / per_page).max(1);
    format!("page {} of {pages} · {total} module(s)", offset / per_page + 1)
}

/// The one-line verdict of a closure: errors first, then what it installs.
pub fn closure_summary(c: &Closure) -> String {
    if !c.missing.is_empty() || !c.not_installable.is_empty() {
        let n = c.missing.len() + c.not_installable.len();
        return format!("{n} problem(s): this set cannot be installed");
    }
    let added = c.modules.values().filter(|o| **o == Origin::Dependency).count();
    format!("installs {} module(s), {added} of them added by dependency", c.to_install().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::types::Need;

    #[test]
    fn pages_count_from_one_and_never_zero() {
        assert_eq!(page_text(0, 20, 0), "page 1 of 1 · 0 module(s)");
        assert_eq!(page_text(20, 20, 41), "page 2 of 3 · 41 module(s)");
    }

    #[test]
    fn a_closure_says_its_problems_before_its_size() {
        let mut c = Closure::default();
        c.modules.insert("a".into(), Origin::Chosen);
        c.modules.insert("b".into(), Origin::Dependency);
        c.modules.insert("base".into(), Origin::Odoo);
        assert_eq!(closure_summary(&c), "installs 2 module(s), 1 of them added by dependency");
        c.missing.push(Need { module: "x".into(), by: "a".into() });
        assert!(closure_summary(&c).starts_with("1 problem(s)"));
        assert_eq!(origin_label(Origin::Dependency), "added by dependency");
    }
}
