//! The mail viewer of an environment (`/environments/:id/mails`): the list
//! follows new mail as it arrives, searches Mailpit-style, and opens a
//! message with HTML (sandboxed, no scripts, remote images on request), Text,
//! Headers and Raw tabs, attachments and the exact `.eml`. Searching runs as
//! you type; a message is deleted on its own, all of them only after a
//! confirmation; the list works from the keyboard; on a phone the list and
//! the open message take the screen in turn.

use crate::components::confirm::{Ask, ConfirmDialog};
use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::backups::environment_backups_context;
use crate::functions::mails::{get_mail, list_mails, DeleteMails};
use crate::models::mail::{has_remote_images, mail_srcdoc};
use crate::models::{human_bytes, project_href};
use domain::wire::MailSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn MailsPage() -> impl IntoView {
    let params = use_params_map();
    let env = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    // Which branch of which project: the title, the breadcrumb, and a not-found page for an
    // environment the caller cannot see (never an empty inbox).
    let context = Resource::new(env, |env| async move {
        match env {
            Some(e) => environment_backups_context(e).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Transition fallback=|| view! { <Title text="Mails"/><p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match context.await {
                    Ok(Some(c)) => view! { <Mails env=c.env.id branch=c.env.branch project=c.project_name
                        project_href=project_href(&c.tenant_slug, &c.project_slug)/> }.into_any(),
                    Err(e) if e.code != domain::ErrorCode::NotFound => view! { <Title text="Mails"/><p class="error">{e.message}</p> }.into_any(),
                    _ => view! { <crate::routes::not_found::NotFound/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What the list says when it is empty: no mail at all, or none matching the search.
pub fn empty_list_text(query: &str) -> String {
    if query.trim().is_empty() {
        "No mail yet.".to_owned()
    } else {
        format!("No mail matches “{}”.", query.trim())
    }
}

#[component]
fn Mails(env: uuid::Uuid, branch: String, project: String, project_href: String) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let selected: RwSignal<Option<uuid::Uuid>> = RwSignal::new(None);
    let delete = ServerAction::<DeleteMails>::new();
    let ask: RwSignal<Option<Ask>> = RwSignal::new(None);
    // New mail shows up without a reload: the server says when mail arrives
    // (WebSocket), and the list also re-reads itself every few seconds.
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(5)) {
            on_cleanup(move || h.clear());
        }
        #[cfg(target_arch = "wasm32")]
        live::follow(env, tick);
    });
    // The first list of a search comes through the page's render (and hydration); the refreshes
    // that follow replace rows in place, keyed by message, so the row with the keyboard's focus
    // (or the pointer) stays the same element while new mail arrives.
    let list = Resource::new(move || query.get(), move |q| list_mails(env, q));
    let fresh: RwSignal<Option<(String, Vec<MailSummary>)>> = RwSignal::new(None);
    Effect::new(move |first: Option<()>| {
        tick.track();
        delete.version().track();
        if first.is_some() {
            let q = query.get_untracked();
            leptos::task::spawn_local(async move {
                // A failed refresh keeps the rows shown; the next one tries again.
                if let Ok(rows) = list_mails(env, q.clone()).await {
                    fresh.set(Some((q, rows)));
                }
            });
        }
    });
    let rows = move || -> Option<Vec<MailSummary>> {
        let q = query.get();
        match fresh.get() {
            Some((fq, rows)) if fq == q => Some(rows),
            _ => list.get().and_then(Result::ok),
        }
    };
    // The open message leaves the view when a search or a deletion hides it.
    Effect::new(move |_| {
        if let Some(mails) = rows() {
            if selected.get_untracked().is_some_and(|id| !mails.iter().any(|m| m.id == id)) {
                selected.set(None);
            }
        }
    });
    let delete_all = {
        let branch = branch.clone();
        move |_| {
            let count = untrack(rows).map(|l| l.len()).unwrap_or_default();
            let searched = !query.get_untracked().trim().is_empty();
            ask.set(Some(Ask::new(
                "Delete all caught mail?",
                format!(
                    "Every message caught from {branch}{} is deleted for good ({count} shown now). Builds keep sending; new mail still arrives.",
                    if searched { ", not only those the search shows," } else { "" }
                ),
                "Delete all",
                move || {
                    delete.dispatch(DeleteMails { env_id: env, id: None });
                },
            )))
        }
    };
    view! {
        <Title text=format!("Mails · {branch} · {project}")/>
        <p class="crumbs" id="crumbs"><a href=project_href>{project.clone()}</a>" / "<a href=format!("/environments/{env}")><code>{branch.clone()}</code></a>" / mails"</p>
        <ConfirmDialog ask=ask/>
        <div class="page-head">
            <h1>"Mails"</h1>
            <span class="muted small">"Caught from the builds of "<code>{branch.clone()}</code>"; nothing here reached a real inbox."</span>
        </div>
        <div class="row mail-bar">
            <input type="search" id="mail-search" placeholder="from:ann subject:\"order 42\" has:attachment is:unread words"
                aria-label="Search mails" on:input=move |e| query.set(event_target_value(&e))/>
            <button type="button" class="link danger" id="delete-all-mails" on:click=delete_all>"Delete all"</button>
        </div>
        <ActionError error=Signal::derive(move || delete.value().with(error_message))/>
        <div class="mail-layout" class:mail-open=move || selected.get().is_some()>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        Ok(_) => view! {
                            <Show when=move || rows().is_some_and(|r| !r.is_empty())
                                fallback=move || view! { <p class="muted" id="mail-list">{empty_list_text(&query.get_untracked())}</p> }>
                                <ul class="mail-list" id="mail-list" aria-label="Caught mail">
                                    <For each=move || rows().unwrap_or_default() key=|m| (m.id, m.read) let:m>
                                        <MailRow m=m selected=selected/>
                                    </For>
                                </ul>
                            </Show>
                        }.into_any(),
                    }
                })}
            </Transition>
            <div class="mail-view">
                {move || match selected.get() {
                    Some(id) => view! {
                        <button type="button" class="link mail-back" on:click=move |_| selected.set(None)>"← All mail"</button>
                        <MailDetail env=env id=id delete=delete/>
                    }.into_any(),
                    None => view! { <p class="muted">"Select a message."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

/// One message in the list: who, what, when, how big; opened by click, Enter or Space.
#[component]
fn MailRow(m: MailSummary, selected: RwSignal<Option<uuid::Uuid>>) -> impl IntoView {
    let id = m.id;
    let class = move || {
        format!(
            "mail-item{}{}",
            if m.read { "" } else { " unread" },
            if selected.get() == Some(id) { " selected" } else { "" }
        )
    };
    view! {
        <li class=class tabindex="0" role="button" aria-pressed=move || (selected.get() == Some(id)).to_string()
            on:click=move |_| selected.set(Some(id))
            on:keydown=move |e| if e.key() == "Enter" || e.key() == " " { e.prevent_default(); selected.set(Some(id)) }>
            <div class="mail-from">{m.from.clone().unwrap_or_else(|| m.envelope_from.clone())}</div>
            <div class="mail-subject">{m.subject.clone().unwrap_or_else(|| if m.malformed { "(malformed message)".into() } else { "(no subject)".into() })}
                {m.has_attachments.then(|| view! { <span class="muted" title="attachments">" 📎"</span> })}</div>
            <div class="muted small"><When at=m.received_at/> " · " {human_bytes(m.size.into())}</div>
        </li>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Tab {
    Html,
    Text,
    Headers,
    Raw,
}

#[component]
fn MailDetail(env: uuid::Uuid, id: uuid::Uuid, delete: ServerAction<DeleteMails>) -> impl IntoView {
    let mail = Resource::new(|| (), move |_| get_mail(env, id));
    let tab = RwSignal::new(Tab::Html);
    let remote = RwSignal::new(false);
    let raw_href = format!("/api/v1/environments/{env}/mails/{id}/raw");
    let raw = LocalResource::new({
        let raw_href = raw_href.clone();
        move || {
            let url = raw_href.clone();
            async move {
                if tab.get() != Tab::Raw {
                    return None;
                }
                fetch_text(&url).await
            }
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new({
                let raw_href = raw_href.clone();
                async move {
                match mail.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(m) => {
                        let html = m.html.clone();
                        let remote_refs = html.as_deref().is_some_and(has_remote_images);
                        if html.is_none() { tab.set(Tab::Text); }
                        view! {
                            <h2 id="mail-subject">{m.summary.subject.clone().unwrap_or_else(|| "(no subject)".into())}</h2>
                            <dl class="facts">
                                <dt>"From"</dt><dd>{m.summary.from.clone().unwrap_or_default()} <span class="muted small">" (envelope " {m.summary.envelope_from.clone()} ")"</span></dd>
                                <dt>"To"</dt><dd>{m.summary.to.clone().unwrap_or_else(|| m.summary.envelope_to.join(", "))}</dd>
                                {m.cc.clone().map(|cc| view! { <dt>"Cc"</dt><dd>{cc}</dd> })}
                                <dt>"Received"</dt><dd><When at=m.summary.received_at/></dd>
                                {m.parse_error.clone().map(|e| view! { <dt>"Malformed"</dt><dd class="error">{e}</dd> })}
                            </dl>
                            <div class="row">
                                <a class="button" href=raw_href.clone() download=format!("{id}.eml") id="download-eml">"Download .eml"</a>
                                <button type="button" class="button danger" id="delete-mail"
                                    on:click=move |_| { delete.dispatch(DeleteMails { env_id: env, id: Some(id) }); }>"Delete"</button>
                                {m.attachments.iter().map(|a| view! {
                                    <a class="button" href=format!("/api/v1/environments/{env}/mails/{id}/attachments/{}", a.index)>
                                        {format!("{} ({})", a.name, human_bytes(a.size as i64))}</a>
                                }).collect_view()}
                            </div>
                            <div class="tabs" role="tablist">
                                {[(Tab::Html, "HTML"), (Tab::Text, "Text"), (Tab::Headers, "Headers"), (Tab::Raw, "Raw")].into_iter().map(|(t, label)| view! {
                                    <button type="button" role="tab" class=move || if tab.get() == t { "tab active" } else { "tab" }
                                        id=format!("tab-{}", label.to_lowercase()) on:click=move |_| tab.set(t)>{label}</button>
                                }).collect_view()}
                            </div>
                            {move || match tab.get() {
                                Tab::Html => match html.clone() {
                                    None => view! { <p class="muted">"This message has no HTML part."</p> }.into_any(),
                                    Some(h) => view! {
                                        {remote_refs.then(|| view! {
                                            <p class="notice small">"Remote images are blocked. "
                                                <button type="button" class="link" on:click=move |_| remote.set(true)>"Show them"</button></p>
                                        })}
                                        <iframe class="mail-html" id="mail-html" sandbox="" title="HTML body"
                                            srcdoc=move || mail_srcdoc(&h, remote.get())></iframe>
                                    }.into_any(),
                                },
                                Tab::Text => view! { <pre class="mail-text" id="mail-text">{m.text.clone().unwrap_or_default()}</pre> }.into_any(),
                                Tab::Headers => view! {
                                    <table class="table small" id="mail-headers">
                                        {m.headers.iter().map(|(k, v)| view! { <tr><th>{k.clone()}</th><td><code>{v.clone()}</code></td></tr> }).collect_view()}
                                    </table>
                                }.into_any(),
                                Tab::Raw => view! {
                                    <pre class="mail-text" id="mail-raw">{move || raw.get().flatten().unwrap_or_else(|| "Loading…".into())}</pre>
                                }.into_any(),
                            }}
                        }.into_any()
                    }
                }
            }})}
        </Transition>
    }
}

/// The raw message as text, for the Raw tab (the download keeps the bytes).
async fn fetch_text(url: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let resp = gloo_net::http::Request::get(url).send().await.ok()?;
        let bytes = resp.binary().await.ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = url;
        None
    }
}

#[cfg(target_arch = "wasm32")]
mod live {
    use leptos::prelude::*;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    /// Bumps `tick` whenever the server announces new mail for `env`.
    pub fn follow(env: uuid::Uuid, tick: RwSignal<u64>) {
        let location = window().location();
        let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let Ok(ws) = web_sys::WebSocket::new(&format!("{scheme}://{host}/api/v1/environments/{env}/mails/ws")) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| tick.update(|t| *t += 1));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let socket = send_wrapper::SendWrapper::new(ws);
        on_cleanup(move || {
            let _ = socket.close();
        });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_empty_search_is_not_an_empty_inbox() {
        assert_eq!(super::empty_list_text("  "), "No mail yet.");
        assert_eq!(super::empty_list_text("subject:x "), "No mail matches “subject:x”.");
    }
}
