//! The tenant wizard, `/tenants/new?draft=…&step=…`: six steps over a draft
//! kept on the server. Each field is checked as it is typed with the domain's
//! own rules (compiled to WASM), and again by the server when a step is
//! saved; Next stays disabled while the step is invalid, and when the server
//! finds more (a slug taken meanwhile) focus moves to the first error. The
//! URL names the draft and the step, so reload, back and forward, and a link
//! sent to oneself all land on the same place.

mod fields;
mod finish;
mod steps;

use crate::components::forms::ActionError;
use crate::functions::wizard::{get_draft, list_drafts, save_step, start_draft};
use crate::models::short_time;
use crate::models::wizard::{reachable, step_url};
use domain::types::{DraftData, FieldError, WizardStep};
use domain::wire::{DraftView, SsoFound};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The wizard's state while a draft is open, shared by its steps.
#[derive(Clone, Copy)]
pub(crate) struct Wiz {
    pub id: Uuid,
    pub data: RwSignal<DraftData>,
    /// What the server said is wrong, until the field is typed in again.
    pub server_errors: RwSignal<Vec<FieldError>>,
    /// Fields typed in since the step opened: their live errors show.
    pub touched: RwSignal<BTreeSet<String>>,
    /// A client secret typed but not yet sent.
    pub secret: RwSignal<String>,
    pub secret_set: RwSignal<bool>,
    pub found: RwSignal<Option<SsoFound>>,
    /// Something more than the fields holds the step back (the Bundle step's closure).
    pub blocked: RwSignal<bool>,
    pub busy: RwSignal<bool>,
    pub failure: RwSignal<Option<String>>,
    pub step: Memo<WizardStep>,
}

impl Wiz {
    /// Saves the step as typed; then goes to `to` when the step is valid (or `always`).
    pub fn save_then(self, to: Option<WizardStep>, always: bool) {
        let (id, step, data) = (self.id, self.step.get_untracked(), self.data.get_untracked());
        let secret = Some(self.secret.get_untracked()).filter(|s| !s.trim().is_empty());
        self.busy.set(true);
        self.failure.set(None);
        let navigate = use_navigate();
        leptos::task::spawn_local(async move {
            let result = save_step(id, step, data, secret).await;
            self.busy.set(false);
            match result {
                Ok(saved) => {
                    self.secret.set(String::new());
                    self.secret_set.set(saved.draft.sso_secret_set);
                    self.found.set(saved.draft.sso_found);
                    let ok = saved.errors.is_empty();
                    self.server_errors.set(saved.errors);
                    if ok || always {
                        if let Some(to) = to {
                            self.touched.set(BTreeSet::new());
                            navigate(&step_url(id, to), Default::default());
                        }
                    } else {
                        focus_first_error();
                    }
                }
                Err(e) => self.failure.set(Some(e.message)),
            }
        });
    }

    /// Marks a field as typed in and forgets the server's word on it.
    pub fn touch(self, field: &'static str) {
        self.touched.update(|t| {
            t.insert(field.to_owned());
        });
        self.server_errors.update(|e| e.retain(|x| x.field != field));
    }
}

/// Moves focus to the first field marked invalid, once the page has drawn it.
pub(crate) fn focus_first_error() {
    focus("[aria-invalid='true']");
}

/// Moves focus to the first element matching `selector`, once the page has drawn it.
pub(crate) fn focus(selector: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let first = document().query_selector(selector).ok().flatten();
        if let Some(el) = first.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

#[component]
pub fn WizardPage() -> impl IntoView {
    let query = use_query_map();
    let draft_id = move || query.with(|q| q.get("draft").and_then(|d| d.parse::<Uuid>().ok()));
    let draft = Resource::new(draft_id, |id| async move {
        match id {
            Some(id) => get_draft(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="New tenant"/>
        <h1>"New tenant"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading the draft…"</p> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Err(e) => view! {
                        <p class="error" role="alert">{e.message}</p>
                        <p><a href="/tenants/new">"Start again"</a></p>
                    }.into_any(),
                    Ok(None) => view! { <Drafts/> }.into_any(),
                    Ok(Some(d)) => view! { <Wizard draft=d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Without a draft: begin one, or resume one of yours.
#[component]
fn Drafts() -> impl IntoView {
    let drafts = Resource::new(|| (), |_| list_drafts());
    let failure = RwSignal::new(None::<String>);
    let begin = move |_| {
        let navigate = use_navigate();
        leptos::task::spawn_local(async move {
            match start_draft().await {
                Ok(d) => navigate(&step_url(d.id, WizardStep::Identity), Default::default()),
                Err(e) => failure.set(Some(e.message)),
            }
        });
    };
    let start = move || {
        view! {
            <section class="card narrow">
                <p>"Onboard an organisation in six steps: identity, plan, modules, infrastructure, single sign-on, review. \
                    Your answers are kept as a draft for 7 days; leave and come back at any time."</p>
                <button type="button" class="primary" id="wizard-begin" on:click=begin>"Begin"</button>
                <ActionError error=Signal::derive(move || failure.get())/>
            </section>
        }
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match drafts.await {
                    // Not platform staff: the reason, and no button that would fail.
                    Err(e) => view! { <p class="error" role="alert" id="wizard-denied">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        {start()}
                        <p class="muted" id="drafts-empty">"No draft in progress."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        {start()}
                        <h2>"Drafts in progress"</h2>
                        <table class="table" id="drafts">
                            <thead><tr><th>"Organisation"</th><th>"Next step"</th><th>"Expires"</th></tr></thead>
                            <tbody>{list.into_iter().map(|d| {
                                let next = d.data.first_invalid().unwrap_or(WizardStep::Review);
                                let name = if d.data.identity.organisation.trim().is_empty() { "(unnamed)".to_owned() } else { d.data.identity.organisation.clone() };
                                view! { <tr>
                                    <td><a href=step_url(d.id, next)>{name}</a></td>
                                    <td>{next.title()}</td>
                                    <td class="muted small">{short_time(&d.expires_at)}</td>
                                </tr> }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Wizard(draft: DraftView) -> impl IntoView {
    let query = use_query_map();
    let step = Memo::new(move |_| WizardStep::from_url(&query.with(|q| q.get("step").unwrap_or_default())));
    let w = Wiz {
        id: draft.id,
        data: RwSignal::new(draft.data.clone()),
        server_errors: RwSignal::new(Vec::new()),
        touched: RwSignal::new(BTreeSet::new()),
        secret: RwSignal::new(String::new()),
        secret_set: RwSignal::new(draft.sso_secret_set),
        found: RwSignal::new(draft.sso_found.clone()),
        blocked: RwSignal::new(false),
        busy: RwSignal::new(false),
        failure: RwSignal::new(None),
        step,
    };
    // A step opens with its own checks: forget the last step's.
    Effect::new(move |_| {
        step.track();
        w.blocked.set(false);
    });
    if let (Some(instance), Some(tenant)) = (draft.instance_id, draft.tenant_slug.clone()) {
        return view! {
            <section class="card narrow" id="wizard-done">
                <p>{format!("This draft made the tenant `{tenant}`.")}</p>
                <a class="button primary" href=format!("/instances/{instance}")>"Open its instance"</a>
            </section>
        }
        .into_any();
    }
    view! {
        <Stepper w=w/>
        <section class="card wizard" aria-live="polite">
            {move || {
                let s = step.get();
                if !w.data.with_untracked(|d| reachable(d, s)) {
                    let first = w.data.with_untracked(|d| d.first_invalid()).unwrap_or(WizardStep::Identity);
                    return view! {
                        <p id="wizard-blocked">{format!("Complete the {} step first.", first.title())}</p>
                        <a class="button primary" href=step_url(w.id, first)>{format!("Go to {}", first.title())}</a>
                    }.into_any();
                }
                match s {
                    WizardStep::Identity => view! { <steps::IdentityStep w=w/> }.into_any(),
                    WizardStep::Plan => view! { <steps::PlanStep w=w/> }.into_any(),
                    WizardStep::Bundle => view! { <steps::BundleStep w=w/> }.into_any(),
                    WizardStep::Infra => view! { <steps::InfraStep w=w/> }.into_any(),
                    WizardStep::Sso => view! { <finish::SsoStep w=w/> }.into_any(),
                    WizardStep::Review => view! { <finish::ReviewStep w=w/> }.into_any(),
                }
            }}
            <ActionError error=Signal::derive(move || w.failure.get())/>
            <Buttons w=w/>
        </section>
    }
    .into_any()
}

/// The six steps, each a link once the steps before it are valid.
#[component]
fn Stepper(w: Wiz) -> impl IntoView {
    view! {
        <ol class="stepper" aria-label="Steps">
            {WizardStep::ALL.into_iter().enumerate().map(|(n, s)| {
                let current = move || w.step.get() == s;
                let open = move || w.data.with(|d| reachable(d, s));
                view! {
                    <li class:current=current class:done=move || !current() && w.data.with(|d| d.errors(s).is_empty()) && s != WizardStep::Review>
                        {move || if open() {
                            view! {
                                <a href=step_url(w.id, s) aria-current=move || current().then_some("step")>
                                    <span class="num">{n + 1}</span>" "{s.title()}
                                </a>
                            }.into_any()
                        } else {
                            view! { <span class="muted"><span class="num">{n + 1}</span>" "{s.title()}</span> }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Back and Next (Review has its own Create).
#[component]
fn Buttons(w: Wiz) -> impl IntoView {
    let invalid = move || w.blocked.get() || w.data.with(|d| !d.errors(w.step.get()).is_empty());
    view! {
        <div class="row wizard-buttons">
            {move || w.step.get().previous().map(|prev| view! {
                <button type="button" id="wizard-back" disabled=move || w.busy.get()
                    on:click=move |_| w.save_then(Some(prev), true)>"Back"</button>
            })}
            {move || w.step.get().next().map(|next| view! {
                <button type="button" class="primary" id="wizard-next"
                    disabled=move || invalid() || w.busy.get()
                    on:click=move |_| w.save_then(Some(next), false)>
                    {move || if w.busy.get() { "Saving…".to_owned() } else { format!("Next: {}", next.title()) }}
                </button>
            })}
            <span class="muted small">"Saved as a draft for 7 days."</span>
        </div>
    }
}
