//! The page for unknown paths.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <div class="auth"><div class="card auth-card">
            <h1>"Page not found"</h1>
            <p class="muted">"Nothing lives at this address. " <a href="/projects">"Go to your projects"</a></p>
        </div></div>
    }
}
