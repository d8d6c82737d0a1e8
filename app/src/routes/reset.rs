//! Password reset: ask for a link, then choose a new password.

use crate::components::forms::{error_message, ActionError, AuthCard};
use crate::functions::auth::{RequestReset, ResetPassword};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn RequestResetPage() -> impl IntoView {
    let action = ServerAction::<RequestReset>::new();
    let sent = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Title text="Reset password"/>
        <AuthCard title="Reset your password">
            <Show when=sent fallback=move || view! {
                <ActionForm action=action attr:class="stack">
                    <label>"Email" <input type="email" name="email" required autofocus/></label>
                    <ActionError error=Signal::derive(move || action.value().with(error_message))/>
                    <button type="submit" class="primary">"Send reset link"</button>
                </ActionForm>
            }>
                <p class="notice">"If an account exists for this address, a reset link is on its way. It is valid for one hour."</p>
            </Show>
            <p class="muted"><a href="/sign-in">"Back to sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ConfirmResetPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    view! {
        <Title text="Choose a new password"/>
        <AuthCard title="Choose a new password">
            <ActionForm action=action attr:class="stack">
                <input type="hidden" name="token" prop:value=token/>
                <label>"New password" <input type="password" name="password" autocomplete="new-password" minlength="10" required autofocus/></label>
                <ActionError error=Signal::derive(move || action.value().with(error_message))/>
                <button type="submit" class="primary">"Set password"</button>
            </ActionForm>
        </AuthCard>
    }
}
