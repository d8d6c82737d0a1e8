//! The support center on the wire: runbooks and support requests.

use super::*;

/// The states a support request goes through, in order (the page's choices and the server's rule).
pub const SUPPORT_STATES: &[&str] = &["open", "in_progress", "answered", "closed"];

wire! {
    /// A runbook: a page platform staff wrote in Markdown.
    pub struct RunbookView {
        pub slug: String,
        pub title: String,
        /// The Markdown as written.
        pub body: String,
        /// The Markdown as HTML, rendered on the server with raw HTML and unsafe links removed.
        #[serde(default)]
        pub body_html: String,
        pub updated_by: Option<String>,
        pub updated_at: DateTime<Utc>,
    }

    /// Writing a runbook; without a slug, one is made from the title.
    pub struct RunbookInput {
        #[serde(default)]
        pub slug: Option<String>,
        pub title: String,
        #[serde(default)]
        pub body: String,
    }

    /// A support request.
    pub struct SupportRequestView {
        pub id: Uuid,
        pub tenant_slug: String,
        pub opened_by: Option<String>,
        pub subject: String,
        pub body: String,
        /// `open`, `in_progress`, `answered` or `closed`.
        pub state: String,
        pub answer: Option<String>,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }

    /// Opening a request for one of the caller's tenants (its slug).
    pub struct NewSupportRequest {
        pub tenant: String,
        pub subject: String,
        #[serde(default)]
        pub body: String,
    }

    /// Moving a request to a state, with an answer.
    pub struct SupportAnswer {
        pub state: String,
        #[serde(default)]
        pub answer: Option<String>,
    }
}
