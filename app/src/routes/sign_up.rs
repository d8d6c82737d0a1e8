//! Create an account and the organisation (tenant) it administers. On an
//! installation without any account, the form also asks for the one-time
//! setup token the console printed in its log (prefilled from
//! `?setup_token=`, the link in that log line).

use crate::components::forms::{error_message, ActionError, AuthCard};
use crate::functions::auth::setup_required;
use crate::AuthActions;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let actions = expect_context::<AuthActions>();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("setup_token").unwrap_or_default());
    let first = Resource::new(|| (), |_| setup_required());
    view! {
        <Title text="Create an account"/>
        <AuthCard title="Create an account">
            <ActionForm action=actions.sign_up attr:class="stack">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        first.await.unwrap_or(false).then(|| view! {
                            <p class="notice" id="setup-notice">"This installation has no account yet. The first account becomes its platform owner and needs the one-time setup token printed in the console's log."</p>
                            <label>"Setup token"
                                <input type="text" name="setup_token" id="setup-token" autocomplete="off" required value=token/>
                            </label>
                        })
                    })}
                </Suspense>
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
