//! Sign in with email and password.

use crate::components::forms::{error_message, ActionError, AuthCard};
use crate::AuthActions;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let reset_done = move || query.with(|q| q.get("reset").is_some());
    let show = RwSignal::new(false);
    view! {
        <Title text="Sign in"/>
        <AuthCard title="Sign in">
            <Show when=reset_done>
                <p class="notice">"Your password was changed. Sign in with the new one."</p>
            </Show>
            <ActionForm action=actions.sign_in attr:class="stack">
                <input type="hidden" name="next" prop:value=next/>
                <label>"Email" <input type="email" name="email" autocomplete="username" required autofocus/></label>
                <label>"Password"
                    <span class="with-button">
                        <input id="password" type=move || if show.get() { "text" } else { "password" }
                            name="password" autocomplete="current-password" required/>
                        <button type="button" id="toggle-password" class="ghost"
                            aria-pressed=move || show.get().to_string()
                            on:click=move |_| show.update(|s| *s = !*s)>
                            {move || if show.get() { "Hide" } else { "Show" }}
                        </button>
                    </span>
                </label>
                <ActionError error=Signal::derive(move || actions.sign_in.value().with(error_message))/>
                <button type="submit" class="primary">"Sign in"</button>
            </ActionForm>
            <p class="muted">
                <a href="/sign-up">"Create an account"</a> " · " <a href="/reset-password">"Forgot your password?"</a>
            </p>
        </AuthCard>
    }
}
