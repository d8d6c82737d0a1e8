//! Tables of the platform pages: filtering, sorting and paging (20 rows a
//! page) as plain functions, so the rules are tested without a browser.

use domain::wire::FleetTenant;

/// Rows a page.
pub const PAGE: usize = 20;

/// The rows of page `page` (from 0) and how many pages there are (at least one).
pub fn paged<T: Clone>(rows: &[T], page: usize) -> (Vec<T>, usize) {
    let pages = rows.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    (rows.iter().skip(page * PAGE).take(PAGE).cloned().collect(), pages)
}

/// What the tenants list is filtered by (empty: any).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantFilter {
    pub search: String,
    pub status: String,
    pub plan: String,
    pub region: String,
    pub group: String,
}

impl TenantFilter {
    pub fn matches(&self, t: &FleetTenant) -> bool {
        let q = self.search.trim().to_lowercase();
        let text = q.is_empty()
            || t.name.to_lowercase().contains(&q)
            || t.slug.contains(&q)
            || t.contact_email.as_deref().is_some_and(|e| e.to_lowercase().contains(&q));
        text && (self.status.is_empty() || t.status == self.status)
            && (self.plan.is_empty() || t.plan.as_deref() == Some(self.plan.as_str()))
            && (self.region.is_empty() || t.region == self.region)
            && (self.group.is_empty() || t.groups.contains(&self.group))
    }
}

/// The columns the tenants list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantSort {
    Name,
    Status,
    Plan,
    Instances,
    Created,
}

/// Filters and sorts tenants (`desc`: the other way round).
pub fn tenants(list: &[FleetTenant], f: &TenantFilter, sort: TenantSort, desc: bool) -> Vec<FleetTenant> {
    let mut out: Vec<FleetTenant> = list.iter().filter(|t| f.matches(t)).cloned().collect();
    out.sort_by(|a, b| {
        let o = match sort {
            TenantSort::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            TenantSort::Status => a.status.cmp(&b.status),
            TenantSort::Plan => a.plan.cmp(&b.plan),
            TenantSort::Instances => a.instances.cmp(&b.instances),
            TenantSort::Created => a.created_at.cmp(&b.created_at),
        };
        if desc {
            o.reverse()
        } else {
            o
        }
    });
    out
}

/// The distinct values of a column, sorted, for a filter's choices.
pub fn choices<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = values.filter(|s| !s.is_empty()).map(str::to_owned).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str, status: &str, plan: Option<&str>, groups: &[&str], instances: i64) -> FleetTenant {
        FleetTenant {
            id: uuid::Uuid::new_v4(),
            slug: name.to_lowercase().replace(' ', "-"),
            name: name.into(),
            status: status.into(),
            region: "eu-west".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            contact_email: Some(format!("it@{}.test", name.to_lowercase().replace(' ', ""))),
            plan: plan.map(str::to_owned),
            subscription: plan.map(|_| "active".to_owned()),
            instances,
            active_instances: instances,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn tenants_filter_sort_and_page() {
        let list: Vec<FleetTenant> = (0..45)
            .map(|n| {
                tenant(
                    &format!("Org {n:02}"),
                    if n % 3 == 0 { "suspended" } else { "active" },
                    Some("standard"),
                    &["retail"],
                    n,
                )
            })
            .chain([tenant("Acme", "active", None, &["pilot"], 1)])
            .collect();
        let all = tenants(&list, &TenantFilter::default(), TenantSort::Name, false);
        assert_eq!(all[0].name, "Acme");
        let (first, pages) = paged(&all, 0);
        assert_eq!((first.len(), pages), (20, 3));
        assert_eq!(paged(&all, 9).0.len(), 6, "past the end: the last page");
        let f = TenantFilter { status: "suspended".into(), ..Default::default() };
        assert_eq!(tenants(&list, &f, TenantSort::Name, false).len(), 15);
        let f = TenantFilter { group: "pilot".into(), ..Default::default() };
        assert_eq!(tenants(&list, &f, TenantSort::Name, false).len(), 1);
        let f = TenantFilter { search: "ACME.test".into(), ..Default::default() };
        assert_eq!(tenants(&list, &f, TenantSort::Name, false)[0].name, "Acme", "by contact too");
        let most = tenants(&list, &TenantFilter::default(), TenantSort::Instances, true);
        assert_eq!(most[0].instances, 44);
        assert_eq!(choices(list.iter().map(|t| t.status.as_str())), ["active", "suspended"]);
        assert_eq!(paged::<u8>(&[], 0), (vec![], 1));
    }
}
