//! Create an account and the organisation (tenant) it administers.

use crate::components::forms::{error_message, ActionError, AuthCard};
use crate::AuthActions;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    view! {
        <Title text="Create an account"/>
        <AuthCard title="Create an account">
            <p class="muted">"The first account of a new installation becomes its platform owner."</p>
            <ActionForm action=actions.sign_up attr:class="stack">
                <label>"Email" <input type="email" name="email" autocomplete="username" required autofocus/></label>
                <label>"Your name" <input type="text" name="display_name" autocomplete="name" maxlength="80"/></label>
                <label>"Organisation" <input type="text" name="organisation" placeholder="Acme Corp" maxlength="80"/></label>
                <label>"Password" <small class="muted">" (at least 10 characters)"</small>
                    <input type="password" name="password" autocomplete="new-password" minlength="10" required/>
                </label>
                <ActionError error=Signal::derive(move || actions.sign_up.value().with(error_message))/>
                <button type="submit" class="primary">"Create account"</button>
            </ActionForm>
            <p class="muted">"Already have one? " <a href="/sign-in">"Sign in"</a></p>
        </AuthCard>
    }
}
