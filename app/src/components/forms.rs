//! Form helpers: showing a server function's error next to the form.

use crate::error::AppError;
use leptos::prelude::*;

/// The message of a failed submission, if the last one failed.
pub fn error_message<T>(value: &Option<Result<T, AppError>>) -> Option<String> {
    match value {
        Some(Err(e)) => Some(e.message.clone()),
        _ => None,
    }
}

/// Shows the error of the last submission of a form, if any.
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })
}

/// A centred card for the sign-in style pages.
#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="auth">
            <div class="card auth-card">
                <div class="brand big">"OdooOps"</div>
                <h1>{title}</h1>
                {children()}
            </div>
        </div>
    }
}
