//! A Supabase project ref: the 20 lowercase letters that name a project in
//! its URLs (`https://<ref>.supabase.co`) and in the Management API's paths.
//! It goes into URLs the console builds, so nothing else gets through.

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SupabaseRef(String);

impl SupabaseRef {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.len() == 20 && s.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(SupabaseRef(s.to_owned()))
        } else {
            Err(ParseError::new(
                "project ref",
                "is the 20 lowercase letters of the project's URL (https://<ref>.supabase.co)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SupabaseRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a kit call asks of the caller on the linked tenant or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KitAccess {
    /// Testers, developers and every member: reading.
    Read,
    /// Project and tenant admins (and platform staff): writing, and secrets.
    Write,
}

/// One Management API operation the kit's proxy lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KitCall {
    /// A stable name for logs and the audit trail (`database.query_read_only`).
    pub name: &'static str,
    pub method: &'static str,
    /// The path, `{ref}` standing for the project ref.
    pub template: &'static str,
    pub access: KitAccess,
    /// The query parameters passed on; any other is dropped.
    pub query: &'static [&'static str],
}

/// Every call the proxy forwards (typed from the Management API's spec);
/// anything else is answered 404 and never sent.
pub const KIT_CALLS: &[KitCall] = &[
    KitCall {
        name: "database.query_read_only",
        method: "POST",
        template: "/v1/projects/{ref}/database/query/read-only",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "database.query",
        method: "POST",
        template: "/v1/projects/{ref}/database/query",
        access: KitAccess::Write,
        query: &[],
    },
    KitCall {
        name: "database.migrations",
        method: "GET",
        template: "/v1/projects/{ref}/database/migrations",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "auth.config",
        method: "GET",
        template: "/v1/projects/{ref}/config/auth",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "auth.config_update",
        method: "PATCH",
        template: "/v1/projects/{ref}/config/auth",
        access: KitAccess::Write,
        query: &[],
    },
    KitCall {
        name: "storage.buckets",
        method: "GET",
        template: "/v1/projects/{ref}/storage/buckets",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "secrets.list",
        method: "GET",
        template: "/v1/projects/{ref}/secrets",
        access: KitAccess::Write,
        query: &[],
    },
    KitCall {
        name: "logs.all",
        method: "GET",
        template: "/v1/projects/{ref}/analytics/endpoints/logs.all",
        access: KitAccess::Read,
        query: &["sql", "iso_timestamp_start", "iso_timestamp_end"],
    },
    KitCall {
        name: "advisors.performance",
        method: "GET",
        template: "/v1/projects/{ref}/advisors/performance",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "advisors.security",
        method: "GET",
        template: "/v1/projects/{ref}/advisors/security",
        access: KitAccess::Read,
        query: &[],
    },
    KitCall {
        name: "health",
        method: "GET",
        template: "/v1/projects/{ref}/health",
        access: KitAccess::Read,
        query: &["services", "timeout_ms"],
    },
    KitCall {
        name: "usage.api_counts",
        method: "GET",
        template: "/v1/projects/{ref}/analytics/endpoints/usage.api-counts",
        access: KitAccess::Read,
        query: &["interval"],
    },
];

/// The allow-listed call `method path` names, with its ref: exact segments
/// only (no `..`, no encoded slashes, nothing after the template).
pub fn kit_call(method: &str, path: &str) -> Option<(KitCall, SupabaseRef)> {
    let segments: Vec<&str> = path.split('/').collect();
    KIT_CALLS.iter().filter(|c| c.method.eq_ignore_ascii_case(method)).find_map(|c| {
        let template: Vec<&str> = c.template.split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut reference = None;
        for (t, s) in template.iter().zip(&segments) {
            if *t == "{ref}" {
                reference = Some(SupabaseRef::parse(s).ok().filter(|r| r.as_str() == *s)?);
            } else if t != s {
                return None;
            }
        }
        reference.map(|r| (*c, r))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allow_listed_calls_match_and_exactly() {
        let r = "abcdefghijklmnopqrst";
        let (call, reference) = kit_call("post", &format!("/v1/projects/{r}/database/query/read-only")).unwrap();
        assert_eq!((call.name, call.access, reference.as_str()), ("database.query_read_only", KitAccess::Read, r));
        assert_eq!(kit_call("POST", &format!("/v1/projects/{r}/database/query")).unwrap().0.access, KitAccess::Write);
        for bad in [
            format!("/v1/projects/{r}/database/query/read-only/"),
            format!("/v1/projects/{r}/../{r}/health"),
            format!("/v1/projects/{r}/api-keys"),
            format!("/v1/projects/{r}/functions"),
            "/v1/projects/ABCDEFGHIJKLMNOPQRST/health".to_owned(),
            "/v1/projects/%2e%2e/health".to_owned(),
            "/v1/organizations".to_owned(),
            format!("//v1/projects/{r}/health"),
        ] {
            assert!(kit_call("GET", &bad).is_none() && kit_call("POST", &bad).is_none(), "{bad}");
        }
        assert!(
            kit_call("DELETE", &format!("/v1/projects/{r}/secrets")).is_none(),
            "deleting secrets is not a kit call"
        );
        assert!(
            kit_call("GET", &format!("/v1/projects/{r}/database/query")).is_none(),
            "the method is part of the call"
        );
    }

    #[test]
    fn a_ref_is_twenty_lowercase_letters() {
        assert_eq!(SupabaseRef::parse(" abcdefghijklmnopqrst ").unwrap().as_str(), "abcdefghijklmnopqrst");
        for bad in ["abcdefghijklmnopqrs", "abcdefghijklmnopqrstu", "Abcdefghijklmnopqrst", "abcdefghij/lmnopqrst", ""]
        {
            assert!(SupabaseRef::parse(bad).is_err(), "{bad}");
        }
    }
}
