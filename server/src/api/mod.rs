//! The REST API for automation under `/api/v1` (JSON, bearer tokens), its
//! OpenAPI document generated from these handlers, and `/api/health`.

pub mod backups;
mod branches;
pub mod builds;
mod catalog;
pub mod error;
pub mod extract;
mod health;
mod instances;
mod integrations;
pub mod mails;
mod me;
pub mod metrics;
mod monitoring;
mod platform;
mod projects;
pub mod promotions;
pub mod range;
pub mod shells;
mod supabase;
mod support;
mod tenants;
mod tokens;
pub mod upgrades;
mod webhooks;
mod wizard;

use crate::startup::AppState;
use axum::routing::{delete, get, post};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "OdooOps API", description = "Automation API of the OdooOps console. Authenticate with a personal access token: `Authorization: Bearer odo_…`."),
    paths(
        health::health,
        me::get_me,
        tokens::list_tokens, tokens::create_token, tokens::revoke_token,
        tenants::list_tenants, tenants::create_tenant, tenants::invite_member,
        tenants::list_invitations, tenants::accept_invitation, tenants::decline_invitation,
        projects::list_projects, projects::create_project, projects::get_project,
        projects::list_members, projects::add_member, projects::remove_member, projects::invite, projects::list_invitations, projects::revoke_invitation, projects::build_now, branches::fork, branches::delete, branches::dump, projects::get_settings, projects::patch_settings, projects::set_stage, projects::preflight_override,
        me::list_audit, me::export_audit, me::verify_audit,
        builds::list_builds, builds::get_build, builds::rebuild, builds::kill, builds::webhook_settings, builds::share, builds::events,
        shells::open_shell, shells::list_shells, shells::get_shell, shells::transcript,
        shells::list_keys, shells::add_key, shells::remove_key,
        mails::list_mails, mails::get_mail, mails::raw_mail, mails::attachment, mails::delete_mail, mails::delete_all,
        mails::list_console_mail, mails::get_console_mail,
        backups::list_backups, backups::create_backup, backups::get_backup, backups::backup_events, backups::download,
        backups::restore, backups::import, backups::get_settings, backups::patch_settings,
        backups::list_restore_requests, backups::approve_restore, backups::reject_restore,
        promotions::request, promotions::list, promotions::get, promotions::approve, promotions::reject, promotions::rollback,
        promotions::get_release_settings, promotions::patch_release_settings,
        upgrades::start_preview, upgrades::list_previews, upgrades::get_preview, upgrades::preview_html,
        upgrades::request_upgrade,
        instances::list_instances, instances::create_instance, instances::get_instance,
        instances::list_operations, instances::request_operation, instances::list_instance_backups,
        instances::instance_usage, instances::list_plans, instances::list_domains, instances::add_domain,
        instances::verify_domain, instances::remove_domain, instances::list_members,
        projects::list_domains, projects::add_domain, projects::verify_domain, projects::remove_domain,
        monitoring::env_monitor, monitoring::fleet, monitoring::alerts, monitoring::change_rule,
        monitoring::add_channel, monitoring::remove_channel, monitoring::test_channel, monitoring::runtime_logs,
        monitoring::runtime_logs_csv,
        catalog::list_sources, catalog::add_source, catalog::refresh_source, catalog::remove_source,
        catalog::search_modules, catalog::get_module, catalog::list_bundles, catalog::create_bundle,
        catalog::get_bundle, catalog::update_bundle, catalog::delete_bundle, catalog::closure,
        wizard::start, wizard::list, wizard::get, wizard::save, wizard::discard, wizard::test_sso, wizard::create,
        wizard::slug, wizard::closure,
        platform::list_roles, platform::set_role, platform::subscriptions, platform::fleet_tenants,
        platform::fleet_tenant, platform::findings, platform::settings, platform::patch_settings,
        platform::plan_changes, platform::propose_plan_change, platform::decide_plan_change,
        support::runbooks, support::save_runbook, support::requests, support::open, support::answer,
        platform::delete_tenant, platform::fleet_capacity,
        integrations::list_webhooks, integrations::create_webhook, integrations::change_webhook,
        integrations::delete_webhook, integrations::test_webhook, integrations::list_deliveries,
        integrations::retry_delivery, integrations::list_analytics, integrations::save_analytics,
        supabase::list_links, supabase::link, supabase::unlink, supabase::query_database,
        supabase::query_database_read_only, supabase::database_logs,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "account"), (name = "tenants"), (name = "projects"), (name = "audit"), (name = "builds"), (name = "shells"), (name = "mails"), (name = "backups"), (name = "promotions"), (name = "upgrades"), (name = "instances"), (name = "catalog"), (name = "system"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/v1/openapi.json", get(|| async { axum::Json(ApiDoc::openapi()) }))
        .route("/v1/me", get(me::get_me))
        .route("/v1/audit", get(me::list_audit))
        .route("/v1/audit/export.csv", get(me::export_audit))
        .route("/v1/audit/verify", get(me::verify_audit))
        .route("/v1/tokens", get(tokens::list_tokens).post(tokens::create_token))
        .route("/v1/tokens/{id}", delete(tokens::revoke_token))
        .route("/v1/tenants", get(tenants::list_tenants).post(tenants::create_tenant))
        .route("/v1/tenants/{id}/members", post(tenants::invite_member))
        .route("/v1/me/invitations", get(tenants::list_invitations))
        .route("/v1/invitations/{id}/accept", post(tenants::accept_invitation))
        .route("/v1/invitations/{id}/decline", post(tenants::decline_invitation))
        .route("/v1/projects", get(projects::list_projects).post(projects::create_project))
        .route("/v1/projects/{id}", get(projects::get_project))
        .route("/v1/projects/{id}/members", get(projects::list_members).post(projects::add_member))
        .route("/v1/projects/{id}/members/{user_id}", delete(projects::remove_member))
        .route("/v1/projects/{id}/invitations", get(projects::list_invitations).post(projects::invite))
        .route("/v1/projects/{id}/invitations/{invitation_id}", delete(projects::revoke_invitation))
        .route("/v1/projects/{id}/domains", get(projects::list_domains).post(projects::add_domain))
        .route("/v1/projects/{id}/alerts", get(monitoring::alerts))
        .route("/v1/projects/{id}/alert-rules/{rule_id}", axum::routing::patch(monitoring::change_rule))
        .route("/v1/projects/{id}/alert-channels", post(monitoring::add_channel))
        .route("/v1/projects/{id}/alert-channels/{channel_id}", delete(monitoring::remove_channel))
        .route("/v1/projects/{id}/alert-channels/{channel_id}/test", post(monitoring::test_channel))
        .route("/v1/environments/{id}/monitor", get(monitoring::env_monitor))
        .route("/v1/environments/{id}/monitor/ws", get(monitoring::env_monitor_socket))
        .route("/v1/environments/{id}/logs", get(monitoring::runtime_logs))
        .route("/v1/environments/{id}/logs.csv", get(monitoring::runtime_logs_csv))
        .route("/v1/monitoring/environments", get(monitoring::fleet))
        .route("/v1/projects/{id}/domains/{domain_id}", delete(projects::remove_domain))
        .route("/v1/projects/{id}/domains/{domain_id}/verify", post(projects::verify_domain))
        .route("/v1/projects/{id}/builds", get(builds::list_builds))
        .route("/v1/projects/{id}/settings", get(projects::get_settings).patch(projects::patch_settings))
        .route("/v1/projects/{id}/preflight/{gate}", axum::routing::put(projects::preflight_override))
        .route("/v1/projects/{id}/webhook", get(builds::webhook_settings))
        .route("/v1/builds/{id}", get(builds::get_build))
        .route("/v1/builds/{id}/rebuild", post(builds::rebuild))
        .route("/v1/builds/{id}/kill", post(builds::kill))
        .route("/v1/builds/{id}/share", post(builds::share))
        .route("/v1/builds/{id}/events", get(builds::events))
        .route("/v1/builds/{id}/events/ws", get(crate::logs::socket))
        .route("/v1/builds/{id}/shell", post(shells::open_shell))
        .route("/v1/builds/{id}/shells", get(shells::list_shells))
        .route("/v1/shells/{id}", get(shells::get_shell))
        .route("/v1/shells/{id}/transcript", get(shells::transcript))
        .route("/v1/shells/{id}/ws", get(crate::terminal::socket))
        .route("/v1/me/ssh-keys", get(shells::list_keys).post(shells::add_key))
        .route("/v1/environments/{id}/mails", get(mails::list_mails).delete(mails::delete_all))
        .route("/v1/environments/{id}/mails/{mail}", get(mails::get_mail).delete(mails::delete_mail))
        .route("/v1/environments/{id}/mails/{mail}/raw", get(mails::raw_mail))
        .route("/v1/environments/{id}/mails/ws", get(mails::events))
        .route("/v1/environments/{id}/mails/{mail}/attachments/{index}", get(mails::attachment))
        .route("/v1/me/ssh-keys/{id}", delete(shells::remove_key))
        .route("/v1/console-mail", get(mails::list_console_mail))
        .route("/v1/console-mail/{id}", get(mails::get_console_mail))
        .route("/v1/environments/{id}", axum::routing::patch(projects::set_stage).delete(branches::delete))
        .route("/v1/environments/{id}/fork", post(branches::fork))
        .route("/v1/builds/{id}/dump", get(branches::dump))
        .route("/v1/environments/{id}/build", post(projects::build_now))
        .route("/v1/environments/{id}/backups", get(backups::list_backups).post(backups::create_backup))
        .route("/v1/environments/{id}/imports", post(backups::import).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/v1/backups/{id}", get(backups::get_backup))
        .route("/v1/backups/{id}/events", get(backups::backup_events))
        .route("/v1/backups/{id}/download", get(backups::download))
        .route("/v1/backups/{id}/restore", post(backups::restore))
        .route("/v1/projects/{id}/restore-requests", get(backups::list_restore_requests))
        .route("/v1/restore-requests/{id}/approve", post(backups::approve_restore))
        .route("/v1/restore-requests/{id}/reject", post(backups::reject_restore))
        .route("/v1/builds/{id}/promote", post(promotions::request))
        .route("/v1/projects/{id}/promotions", get(promotions::list))
        .route("/v1/projects/{id}/rollback", post(promotions::rollback))
        .route("/v1/projects/{id}/upgrade-previews", get(upgrades::list_previews).post(upgrades::start_preview))
        .route("/v1/upgrade-previews/{id}", get(upgrades::get_preview))
        .route("/v1/upgrade-previews/{id}/report.html", get(upgrades::preview_html))
        .route("/v1/upgrade-previews/{id}/upgrade", post(upgrades::request_upgrade))
        .route(
            "/v1/projects/{id}/release-settings",
            get(promotions::get_release_settings).patch(promotions::patch_release_settings),
        )
        .route("/v1/instances", get(instances::list_instances).post(instances::create_instance))
        .route("/v1/instances/{id}", get(instances::get_instance))
        .route("/v1/instances/{id}/operations", get(instances::list_operations).post(instances::request_operation))
        .route("/v1/instances/{id}/backups", get(instances::list_instance_backups))
        .route("/v1/instances/{id}/usage", get(instances::instance_usage))
        .route("/v1/instances/{id}/domains", get(instances::list_domains).post(instances::add_domain))
        .route("/v1/instances/{id}/domains/{domain_id}", axum::routing::delete(instances::remove_domain))
        .route("/v1/instances/{id}/domains/{domain_id}/verify", axum::routing::post(instances::verify_domain))
        .route("/v1/instances/{id}/members", get(instances::list_members))
        .route("/v1/plans", get(instances::list_plans))
        .route("/v1/catalog/sources", get(catalog::list_sources).post(catalog::add_source))
        .route("/v1/catalog/sources/{id}", delete(catalog::remove_source))
        .route("/v1/catalog/sources/{id}/refresh", post(catalog::refresh_source))
        .route("/v1/catalog/modules", get(catalog::search_modules))
        .route("/v1/catalog/modules/{name}", get(catalog::get_module))
        .route("/v1/bundles", get(catalog::list_bundles).post(catalog::create_bundle))
        .route("/v1/bundles/closure", post(catalog::closure))
        .route("/v1/tenant-drafts", get(wizard::list).post(wizard::start))
        .route("/v1/tenant-drafts/closure", post(wizard::closure))
        .route("/v1/tenant-drafts/{id}", get(wizard::get).delete(wizard::discard))
        .route("/v1/tenant-drafts/{id}/steps/{step}", axum::routing::put(wizard::save))
        .route("/v1/tenant-drafts/{id}/sso-test", post(wizard::test_sso))
        .route("/v1/tenant-drafts/{id}/create", post(wizard::create))
        .route("/v1/tenant-slugs/{slug}", get(wizard::slug))
        .route("/v1/platform/roles", get(platform::list_roles).put(platform::set_role))
        .route("/v1/platform/settings", get(platform::settings).patch(platform::patch_settings))
        .route("/v1/billing/subscriptions", get(platform::subscriptions))
        .route("/v1/billing/plan-changes", get(platform::plan_changes).post(platform::propose_plan_change))
        .route("/v1/billing/plan-changes/{id}/decide", post(platform::decide_plan_change))
        .route("/v1/fleet/tenants", get(platform::fleet_tenants))
        .route("/v1/fleet/tenants/{slug}", get(platform::fleet_tenant).delete(platform::delete_tenant))
        .route("/v1/webhooks", get(integrations::list_webhooks).post(integrations::create_webhook))
        .route(
            "/v1/webhooks/{id}",
            axum::routing::patch(integrations::change_webhook).delete(integrations::delete_webhook),
        )
        .route("/v1/webhooks/{id}/test", post(integrations::test_webhook))
        .route("/v1/webhook-deliveries", get(integrations::list_deliveries))
        .route("/v1/webhook-deliveries/{id}/retry", post(integrations::retry_delivery))
        .route("/v1/analytics", get(integrations::list_analytics))
        .route("/v1/supabase/links", get(supabase::list_links).post(supabase::link))
        .route("/v1/supabase/links/{id}", delete(supabase::unlink))
        .route("/supabase-proxy/{*path}", axum::routing::any(supabase::proxy))
        .route("/v1/builds/{id}/database/query", post(supabase::query_database))
        .route("/v1/builds/{id}/database/query/read-only", post(supabase::query_database_read_only))
        .route("/v1/builds/{id}/database/logs", get(supabase::database_logs))
        .route("/v1/analytics/{slug}", axum::routing::put(integrations::save_analytics))
        .route("/v1/fleet/findings", get(platform::findings))
        .route("/v1/fleet/capacity", get(platform::fleet_capacity))
        .route("/v1/runbooks", get(support::runbooks).put(support::save_runbook))
        .route("/v1/support/requests", get(support::requests).post(support::open))
        .route("/v1/support/requests/{id}/state", post(support::answer))
        .route("/v1/bundles/{id}", get(catalog::get_bundle).put(catalog::update_bundle).delete(catalog::delete_bundle))
        .route("/v1/promotions/{id}", get(promotions::get))
        .route("/v1/promotions/{id}/approve", post(promotions::approve))
        .route("/v1/promotions/{id}/reject", post(promotions::reject))
        .route("/v1/projects/{id}/backup-settings", get(backups::get_settings).patch(backups::patch_settings))
        .route(
            "/webhooks/github/{project}",
            post(webhooks::github).layer(axum::extract::DefaultBodyLimit::max(webhooks::MAX_BODY)),
        )
        .fallback(|| async { error::ApiError::not_found("no such API endpoint") })
}
