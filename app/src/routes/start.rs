//! "Start with Odoo": the self-service flow. An account (and its
//! organisation), the link sent to its address, then the workspace: name and
//! address (checked as you type), plan, the Odoo admin's login and password,
//! language, country and time zone; then its page, where provisioning shows
//! live and the address opens Odoo's login.

use crate::components::forms::{error_message, ActionError, AuthCard};
use crate::components::subdomain_field::SubdomainField;
use crate::functions::auth::{get_me, RequestVerification, StartSignUp, VerifyEmail};
use crate::functions::instances::{list_plans, CreateInstance};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn StartPage() -> impl IntoView {
    let signup = ServerAction::<StartSignUp>::new();
    let resend = ServerAction::<RequestVerification>::new();
    let me = Resource::new(move || signup.version().get(), |_| get_me());
    view! {
        <Title text="Start with Odoo"/>
        <AuthCard title="Start with Odoo">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match me.await.ok().flatten() {
                        None => view! {
                            <p class="muted">"Your own Odoo, on its own address, in about a minute. First, your account."</p>
                            <ActionForm action=signup attr:class="stack" attr:id="start-account">
                                <label>"Email" <input type="email" name="email" autocomplete="username" required autofocus/></label>
                                <label>"Organisation" <input type="text" name="organisation" maxlength="80" placeholder="Acme Corp"/></label>
                                <label>"Password" <small class="muted">" (at least 10 characters)"</small>
                                    <input type="password" name="password" autocomplete="new-password" minlength="10" required/></label>
                                <ActionError error=Signal::derive(move || signup.value().with(error_message))/>
                                <button type="submit" class="primary">"Continue"</button>
                            </ActionForm>
                            <p class="muted">"Have an account? " <a href="/sign-in?next=/start">"Sign in"</a></p>
                        }.into_any(),
                        Some(m) if !m.email_verified => view! {
                            <p id="check-mail">"We sent a link to " <b>{m.email.clone()}</b> ". Open it to confirm your address and continue."</p>
                            <ActionForm action=resend>
                                <button type="submit">"Send the link again"</button>
                            </ActionForm>
                            <ActionError error=Signal::derive(move || resend.value().with(error_message))/>
                            {move || resend.value().with(|v| matches!(v, Some(Ok(())))).then(|| view! { <p class="muted">"Sent."</p> })}
                        }.into_any(),
                        Some(m) => view! { <NewWorkspace login=m.email.clone()/> }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

/// The workspace form; on success, its page.
#[component]
fn NewWorkspace(login: String) -> impl IntoView {
    let create = ServerAction::<CreateInstance>::new();
    let plans = Resource::new(|| (), |_| list_plans());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(i)) = create.value().get() {
            navigate(&format!("/instances/{}", i.id), Default::default());
        }
    });
    view! {
        <ActionForm action=create attr:class="stack" attr:id="new-instance">
            <label>"Workspace name" <input type="text" name="name" required maxlength="120"/></label>
            <SubdomainField/>
            <label>"Plan" <select name="plan" id="plan">
                <Suspense fallback=|| view! { <option value="starter">"Starter"</option> }>
                    {move || Suspend::new(async move {
                        plans.await.unwrap_or_default().into_iter().map(|p| {
                            let terms = crate::models::instance::plan_terms(&p);
                            view! { <option value=p.slug.clone()>{terms}</option> }
                        }).collect_view()
                    })}
                </Suspense>
            </select></label>
            <input type="hidden" name="modules" value="contacts"/>
            <label>"Odoo admin login" <input type="email" name="admin_login" required maxlength="200" value=login/></label>
            <label>"Odoo admin password" <small class="muted">" (at least 10 characters; we do not keep it)"</small>
                <input type="password" name="admin_password" required minlength="10" maxlength="128" autocomplete="new-password"/></label>
            <label>"Language" <select name="lang">
                <option value="en_US">"English"</option>
                <option value="fr_FR">"Français"</option>
                <option value="de_DE">"Deutsch"</option>
                <option value="es_ES">"Español"</option>
                <option value="nl_NL">"Nederlands"</option>
            </select></label>
            <label>"Country" <small class="muted">" (two letters, e.g. BE)"</small>
                <input type="text" name="country" maxlength="2" pattern="[A-Za-z]{2}"/></label>
            <label>"Time zone" <input type="text" name="timezone" maxlength="64" value="UTC"/></label>
            <ActionError error=Signal::derive(move || create.value().with(error_message))/>
            <button type="submit" class="primary" id="create-workspace">"Create my Odoo"</button>
        </ActionForm>
    }
}

/// The link from the confirmation mail: a button, since a GET changes nothing.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token").unwrap_or_default());
    view! {
        <Title text="Confirm your address"/>
        <AuthCard title="Confirm your address">
            <ActionForm action=verify attr:class="stack">
                <input type="hidden" name="token" value=token/>
                <ActionError error=Signal::derive(move || verify.value().with(error_message))/>
                <button type="submit" class="primary" id="confirm-email">"Confirm my address"</button>
            </ActionForm>
        </AuthCard>
    }
}
