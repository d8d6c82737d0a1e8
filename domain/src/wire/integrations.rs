//! Integrations on the wire: outbound event subscriptions (webhooks) with
//! their deliveries, and a tenant's analytics links.

use super::*;

/// Deliveries on a page of the history.
pub const DELIVERY_PAGE: i64 = 20;

wire! {
    /// An event subscription. Its signing secret is never here: it is shown
    /// once, in [`WebhookCreated`], and then only sealed on the server.
    pub struct WebhookView {
        pub id: Uuid,
        pub tenant_slug: String,
        pub tenant_name: String,
        pub url: String,
        pub description: String,
        pub events: Vec<String>,
        pub active: bool,
        pub created_at: DateTime<Utc>,
        /// Deliveries waiting to be sent or retried.
        pub waiting: i64,
        /// Deliveries the console gave up on.
        pub gave_up: i64,
        /// The latest delivery's state and when it was made.
        pub last_state: Option<String>,
        pub last_at: Option<DateTime<Utc>>,
    }

    /// A new subscription for tenant `tenant` (its slug).
    pub struct NewWebhook {
        pub tenant: String,
        pub url: String,
        #[serde(default)]
        pub description: String,
        pub events: Vec<String>,
    }

    /// A change to a subscription; what is absent stays.
    pub struct WebhookChange {
        #[serde(default)]
        pub url: Option<String>,
        #[serde(default)]
        pub description: Option<String>,
        #[serde(default)]
        pub events: Option<Vec<String>>,
        #[serde(default)]
        pub active: Option<bool>,
    }

    /// A subscription just made, with its signing secret: shown this once.
    pub struct WebhookCreated {
        pub webhook: WebhookView,
        /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
        pub secret: String,
    }

    /// One event sent (or to be sent) to one subscription.
    pub struct DeliveryView {
        pub id: Uuid,
        pub webhook_id: Uuid,
        pub tenant_slug: String,
        pub url: String,
        pub event: String,
        /// `pending`, `sending`, `failed` (will retry), `delivered` or `gave_up`.
        pub state: String,
        pub attempts: i32,
        /// The receiver's last HTTP status, when it answered.
        pub last_status: Option<i32>,
        /// Why the last try failed, written for people.
        pub last_error: Option<String>,
        pub duration_ms: Option<i32>,
        pub created_at: DateTime<Utc>,
        /// When it is tried next (waiting deliveries).
        pub next_attempt_at: Option<DateTime<Utc>>,
        pub delivered_at: Option<DateTime<Utc>>,
        /// The body as sent.
        pub payload: serde_json::Value,
    }

    /// A page of deliveries, newest first.
    pub struct DeliveryPage {
        pub deliveries: Vec<DeliveryView>,
        pub total: i64,
        pub page: i64,
    }

    /// A Supabase project linked to a tenant (no project) or to one of its projects.
    /// The Management API token is never here: only whether one is set.
    pub struct SupabaseLinkView {
        pub id: Uuid,
        pub tenant_slug: String,
        pub project_id: Option<Uuid>,
        pub project_name: Option<String>,
        pub reference: String,
        pub has_token: bool,
        /// Whether the caller may write through the kit (and unlink).
        pub writes: bool,
        pub linked_at: DateTime<Utc>,
    }

    /// Linking a Supabase project: to tenant `tenant` (its slug), or to one of its projects.
    pub struct SupabaseLinkInput {
        pub tenant: String,
        #[serde(default)]
        pub project_id: Option<Uuid>,
        pub reference: String,
        /// A Management API token (`sbp_…`); sealed on arrival, never shown again.
        #[serde(default)]
        pub token: Option<String>,
    }

    /// A tenant's analytics links.
    pub struct AnalyticsView {
        pub tenant_slug: String,
        pub tenant_name: String,
        /// The Supabase project ref (20 lowercase letters), if linked.
        pub supabase_ref: Option<String>,
        pub dashboards: Vec<DashboardLink>,
        /// Whether the caller may change these links.
        pub editable: bool,
    }

    /// A named dashboard URL (`https://`).
    pub struct DashboardLink {
        pub name: String,
        pub url: String,
    }

    /// Setting a tenant's analytics links (empty ref: unlinked).
    pub struct AnalyticsInput {
        #[serde(default)]
        pub supabase_ref: Option<String>,
        #[serde(default)]
        pub dashboards: Vec<DashboardLink>,
    }
}
