//! The wizard's last steps: SSO (none, or OpenID Connect with a Test that
//! fetches the issuer's discovery document) and Review (every choice with an
//! edit link; Create asks for the instance's admin password in a modal, then
//! opens the instance, whose provisioning shows live).

use super::fields::{FieldMessage, TextField};
use super::{focus, focus_first_error, Wiz};
use crate::components::forms::ActionError;
use crate::functions::wizard::{create_from_draft, save_step, test_sso};
use crate::models::wizard::{review_lines, step_url};
use domain::types::WizardStep;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub(crate) fn SsoStep(w: Wiz) -> impl IntoView {
    let oidc = move || w.data.with(|d| d.sso.kind == "oidc");
    let testing = RwSignal::new(false);
    let test_error = RwSignal::new(None::<String>);
    let test = move |_| {
        let (id, data) = (w.id, w.data.get_untracked());
        let secret = Some(w.secret.get_untracked()).filter(|s| !s.trim().is_empty());
        testing.set(true);
        test_error.set(None);
        leptos::task::spawn_local(async move {
            // The issuer is tested as saved: save first.
            let saved = save_step(id, WizardStep::Sso, data, secret).await;
            let result = match saved {
                Ok(s) => {
                    w.secret.set(String::new());
                    w.secret_set.set(s.draft.sso_secret_set);
                    test_sso(id).await
                }
                Err(e) => Err(e),
            };
            testing.set(false);
            match result {
                Ok(found) => w.found.set(Some(found)),
                Err(e) => {
                    w.found.set(None);
                    test_error.set(Some(e.message));
                }
            }
        });
    };
    let kind_radio = move |value: &'static str, label: &'static str| {
        view! {
            <label class="choice inline-choice" class:chosen=move || w.data.with(|d| d.sso.kind == value)>
                <input type="radio" name="sso_kind" value=value prop:checked=move || w.data.with(|d| d.sso.kind == value)
                    on:change=move |_| { w.data.update(|d| d.sso.kind = value.to_owned()); w.touch("kind"); }/>
                {label}
            </label>
        }
    };
    view! {
        <h2>"Single sign-on"</h2>
        <fieldset class="choices row" id="sso-kind">
            <legend class="sr-only">"How people sign in"</legend>
            {kind_radio("none", "None: passwords")}
            {kind_radio("oidc", "OpenID Connect")}
        </fieldset>
        <FieldMessage w=w name="kind"/>
        <Show when=oidc>
            <div class="form-grid">
                <TextField w=w label="Issuer" name="issuer" kind="url" placeholder="https://login.example.com/realms/acme"
                    get=|d| d.sso.issuer.clone() set=|d, v| d.sso.issuer = v/>
                <TextField w=w label="Client id" name="client_id" placeholder="odoo"
                    get=|d| d.sso.client_id.clone() set=|d, v| d.sso.client_id = v/>
                <label>"Client secret"
                    <small class="muted">{move || if w.secret_set.get() {
                        "a secret is stored (sealed); type another to replace it"
                    } else {
                        "stored sealed; never shown again"
                    }}</small>
                    <input type="password" name="client_secret" id="f-client_secret" autocomplete="new-password" maxlength="500"
                        prop:value=move || w.secret.get()
                        on:input=move |e| w.secret.set(event_target_value(&e))/>
                </label>
                <TextField w=w label="Scopes" name="scopes" placeholder="openid email profile"
                    get=|d| d.sso.scopes.clone() set=|d, v| d.sso.scopes = v/>
            </div>
            <div class="row">
                <button type="button" id="sso-test" on:click=test
                    disabled=move || testing.get() || w.data.with(|d| !d.errors(WizardStep::Sso).is_empty())>
                    {move || if testing.get() { "Testing…" } else { "Test" }}
                </button>
                <span class="muted small">"Fetches the issuer's discovery document from the console."</span>
            </div>
            <ActionError error=Signal::derive(move || test_error.get())/>
            {move || w.found.get().map(|f| view! {
                <dl class="facts" id="sso-found">
                    <dt>"Issuer"</dt><dd>{f.issuer.clone()}</dd>
                    <dt>"Authorization"</dt><dd><code>{f.authorization_endpoint.clone()}</code></dd>
                    <dt>"Token"</dt><dd><code>{f.token_endpoint.clone()}</code></dd>
                    <dt>"User info"</dt><dd>{f.userinfo_endpoint.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Keys"</dt><dd><code>{f.jwks_uri.clone()}</code></dd>
                    <dt>"Scopes offered"</dt><dd>{f.scopes_supported.join(" ")}</dd>
                </dl>
            })}
        </Show>
    }
}

#[component]
pub(crate) fn ReviewStep(w: Wiz) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let password = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    // The modal takes focus when it opens (Esc and Cancel close it), and gives it back to Create.
    Effect::new(move |was_open: Option<bool>| {
        let open = confirming.get();
        if open {
            focus("#admin-password");
        } else if was_open == Some(true) {
            focus("#wizard-create");
        }
        open
    });
    let needs_test = move || w.data.with(|d| d.sso.kind == "oidc") && w.found.with(Option::is_none);
    let create = move || {
        let (id, pw) = (w.id, password.get_untracked());
        creating.set(true);
        failure.set(None);
        let navigate = use_navigate();
        leptos::task::spawn_local(async move {
            // Save Review first: the server checks every step again.
            let saved = save_step(id, WizardStep::Review, w.data.get_untracked(), None).await;
            let result = match saved {
                Ok(s) if !s.errors.is_empty() => {
                    w.server_errors.set(s.errors.clone());
                    Err(s.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))
                }
                Ok(_) => create_from_draft(id, pw).await.map_err(|e| e.message),
                Err(e) => Err(e.message),
            };
            creating.set(false);
            match result {
                Ok(instance) => navigate(&format!("/instances/{}", instance.id), Default::default()),
                Err(m) => {
                    failure.set(Some(m));
                    focus_first_error();
                }
            }
        });
    };
    view! {
        <h2>"Review"</h2>
        {WizardStep::ALL.into_iter().filter(|s| *s != WizardStep::Review).map(|s| view! {
            <section class="review-block">
                <div class="page-head">
                    <h3>{s.title()}</h3>
                    <a href=step_url(w.id, s) class="small" aria-label=format!("Edit {}", s.title())>"Edit"</a>
                </div>
                <dl class="facts">
                    {move || review_lines(&w.data.get(), s, w.secret_set.get()).into_iter().map(|(k, v)| view! {
                        <dt>{k}</dt><dd>{v}</dd>
                    }).collect_view()}
                </dl>
            </section>
        }).collect_view()}
        {move || needs_test().then(|| view! {
            <p class="error" id="review-sso">"Test the SSO issuer before creating (the SSO step)."</p>
        })}
        <button type="button" class="primary" id="wizard-create" disabled=needs_test
            on:click=move |_| confirming.set(true)>"Create tenant"</button>
        <ActionError error=Signal::derive(move || failure.get())/>
        <Show when=move || confirming.get()>
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-labelledby="confirm-title" id="confirm-create"
                    on:keydown=move |e| if e.key() == "Escape" { confirming.set(false) }>
                    <h2 id="confirm-title">{move || format!("Create {}?", w.data.with(|d| d.identity.organisation.clone()))}</h2>
                    <p class="small">{move || w.data.with(|d| format!(
                        "This makes the tenant `{}` with its subscription, and provisions its first instance at `{}`. \
                         Its admin signs in as {}.", d.identity.slug, d.identity.slug, d.identity.contact_email))}</p>
                    <label>"Admin password of the instance" <small class="muted">"at least 10 characters; only its hash is kept"</small>
                        <input type="password" id="admin-password" autocomplete="new-password"
                            prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
                    </label>
                    <div class="row">
                        <button type="button" class="primary" id="confirm-create-yes"
                            disabled=move || creating.get() || password.with(|p| p.chars().count() < 10)
                            on:click=move |_| create()>
                            {move || if creating.get() { "Creating…" } else { "Create" }}
                        </button>
                        <button type="button" id="confirm-create-no" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                    <ActionError error=Signal::derive(move || failure.get())/>
                </div>
            </div>
        </Show>
    }
}
