//! The OdooOps console UI: one Leptos app rendered on the server and hydrated
//! in the browser.
//!
//! # Layout
//! - `routes/`: one file per page.
//! - `components/`: reusable pieces (layout, forms, empty states).
//! - `functions/`: server functions, one per file, grouped by domain. They
//!   authenticate, authorise through the domain crate, and return wire types.
//! - `models/`: presentation logic kept out of components so plain tests reach it.

pub mod components;
pub mod error;
pub mod functions;
pub mod models;
pub mod routes;

use components::layout::Layout;
use domain::wire::Me;
use error::AppError;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app (server side only).
///
/// Its Content-Security-Policy allows inline scripts only with this
/// response's nonce: leptos' `nonce` feature gives one to every request and
/// puts it on the hydration bootstrap and on the scripts carrying serialised
/// resources, so hydration passes without `'unsafe-inline'` for scripts.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(resp), Some(p)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
        use_context::<domain::platform::Platform>(),
    ) {
        let policy = domain::web_edge::content_security_policy(Some(&nonce), &p.settings.public_url);
        if let Ok(v) = http::HeaderValue::from_str(&policy) {
            resp.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in user, loaded once and refreshed after sign-in/up/out.
pub type MeResource = Resource<Result<Option<Me>, AppError>>;

/// The actions that change who is signed in, shared so the user resource follows them.
#[derive(Clone, Copy)]
pub struct AuthActions {
    pub sign_in: ServerAction<functions::auth::SignIn>,
    pub sign_up: ServerAction<functions::auth::SignUp>,
    pub sign_out: ServerAction<functions::auth::SignOut>,
}

/// Every route renders in `SsrMode::Async`: the server waits for the page's
/// data and sends complete HTML, so pages read fine before (or without) hydration.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let actions =
        AuthActions { sign_in: ServerAction::new(), sign_up: ServerAction::new(), sign_out: ServerAction::new() };
    let me: MeResource = Resource::new(
        move || (actions.sign_in.version().get(), actions.sign_up.version().get(), actions.sign_out.version().get()),
        |_| functions::auth::get_me(),
    );
    provide_context(actions);
    provide_context(me);

    // Marks the page as hydrated; effects run only in the browser, so the
    // browser tests can wait for this before clicking.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/odooops.css"/>
        <Title formatter=|t: String| if t.is_empty() { "OdooOps".to_string() } else { format!("{t} · OdooOps") }/>
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route ssr=SsrMode::Async path=path!("/sign-in") view=routes::sign_in::SignInPage/>
                <Route ssr=SsrMode::Async path=path!("/sign-up") view=routes::sign_up::SignUpPage/>
                <Route ssr=SsrMode::Async path=path!("/start") view=routes::start::StartPage/>
                <Route ssr=SsrMode::Async path=path!("/verify-email") view=routes::start::VerifyEmailPage/>
                <Route ssr=SsrMode::Async path=path!("/reset-password") view=routes::reset::RequestResetPage/>
                <Route ssr=SsrMode::Async path=path!("/reset-password/confirm") view=routes::reset::ConfirmResetPage/>
                <Route ssr=SsrMode::Async path=path!("/") view=|| view! { <Layout><routes::dashboard::DashboardPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/projects") view=|| view! { <Layout><routes::projects::ProjectsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/projects/:tenant/:project") view=|| view! { <Layout><routes::project::ProjectPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/builds/:id") view=|| view! { <Layout><routes::build::BuildPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/builds/:id/shell") view=|| view! { <Layout><routes::shell::ShellPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/environments/:id") view=|| view! { <Layout><routes::branch::BranchPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/environments/:id/monitoring") view=|| view! { <Layout><routes::environment::EnvironmentPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/environments/:id/logs") view=|| view! { <Layout><routes::runtime_logs::RuntimeLogsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/alerts/:id") view=|| view! { <Layout><routes::alerts::AlertsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/environments/:id/mails") view=|| view! { <Layout><routes::mails::MailsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/environments/:id/backups") view=|| view! { <Layout><routes::backups::BackupsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/shells/:id") view=|| view! { <Layout><routes::shell::ShellSessionPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/tenants") view=|| view! { <Layout><routes::tenants::TenantsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/operations") view=|| view! { <Layout><routes::fleet::OperationsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/integrations/sso") view=|| view! { <Layout><routes::integrations::SsoIntegrationsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/integrations/automation") view=|| view! { <Layout><routes::automation::AutomationPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/integrations/analytics") view=|| view! { <Layout><routes::analytics::AnalyticsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/ai-console") view=|| view! { <Layout><routes::recommendations::RecommendationsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/support") view=|| view! { <Layout><routes::support::SupportPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/portal") view=|| view! { <Layout><routes::portal::PortalPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/billing") view=|| view! { <Layout><routes::fleet::BillingPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/plans") view=|| view! { <Layout><routes::fleet::PlansPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/size-profiles") view=|| view! { <Layout><routes::fleet::SizeProfilesPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/tenants/new") view=|| view! { <Layout><routes::wizard::WizardPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/tenants/:slug") view=|| view! { <Layout><routes::tenant::TenantPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/instances") view=|| view! { <Layout><routes::instances::InstancesPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/instances/:id") view=|| view! { <Layout><routes::instances::InstancePage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/catalog") view=|| view! { <Layout><routes::catalog::CatalogPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/catalog/modules/:name") view=|| view! { <Layout><routes::catalog::ModulePage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/bundles") view=|| view! { <Layout><routes::bundles::BundlesPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/bundles/:id") view=|| view! { <Layout><routes::bundles::BundlePage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/console-mail") view=|| view! { <Layout><routes::console_mail::ConsoleMailPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/audit") view=|| view! { <Layout><routes::audit::AuditPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/settings") view=|| view! { <Layout><routes::settings::SettingsPage/></Layout> }/>
                <Route ssr=SsrMode::Async path=path!("/settings/platform") view=|| view! { <Layout><routes::platform_settings::PlatformSettingsPage/></Layout> }/>
            </Routes>
        </Router>
    }
}

/// Paths that need a signed-in user; the server redirects anonymous requests
/// for them to `/sign-in` before rendering.
pub fn is_protected_path(path: &str) -> bool {
    path == "/"
        || [
            "/projects",
            "/instances",
            "/tenants",
            "/audit",
            "/settings",
            "/builds",
            "/shells",
            "/environments",
            "/console-mail",
        ]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn protected_paths() {
        assert!(super::is_protected_path("/"));
        assert!(super::is_protected_path("/projects/acme/erp"));
        assert!(!super::is_protected_path("/projectsx"));
        assert!(super::is_protected_path("/shells/5f0c"));
        assert!(!super::is_protected_path("/sign-in"));
        assert!(super::is_protected_path("/console-mail"));
        assert!(!super::is_protected_path("/pkg/odooops.js"));
    }
}
