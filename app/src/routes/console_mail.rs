//! The console mailbox (`/console-mail`): what OdooOps itself would have
//! mailed (password resets, invitations, alerts) while no SMTP relay is
//! configured. Platform owners only; opening a message is audited.

use crate::components::when::When;
use crate::functions::console_mail::{get_console_mail, list_console_mail};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ConsoleMailPage() -> impl IntoView {
    let selected: RwSignal<Option<uuid::Uuid>> = RwSignal::new(None);
    let list = Resource::new(move || selected.get(), |_| list_console_mail());
    view! {
        <Title text="Console mail"/>
        <div class="page-head">
            <h1>"Console mail"</h1>
            <span class="muted small">"While no SMTP relay is configured, the console's own mail waits here; \
                set ODOOOPS_SMTP_RELAY to deliver it."</span>
        </div>
        <div class="mail-layout">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="error" id="console-mail-list">{e.message}</p> }.into_any(),
                        Ok(mails) if mails.is_empty() => view! { <p class="muted" id="console-mail-list">"No mail yet."</p> }.into_any(),
                        Ok(mails) => view! {
                            <ul class="mail-list" id="console-mail-list">
                                {mails.into_iter().map(|m| {
                                    let id = m.id;
                                    let class = move || format!("mail-item{}{}", if m.read { "" } else { " unread" },
                                        if selected.get() == Some(id) { " selected" } else { "" });
                                    view! {
                                        <li class=class on:click=move |_| selected.set(Some(id))>
                                            <div class="mail-from">{m.to.clone()}</div>
                                            <div class="mail-subject">{m.subject.clone()}</div>
                                            <div class="muted small"><When at=m.received_at/></div>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
            <div class="mail-view">
                {move || match selected.get() {
                    Some(id) => view! { <ConsoleMailDetail id=id/> }.into_any(),
                    None => view! { <p class="muted">"Select a message. Opening one is recorded in the audit trail."</p> }.into_any(),
                }}
            </div>
        </div>
    }
}

#[component]
fn ConsoleMailDetail(id: uuid::Uuid) -> impl IntoView {
    let mail = Resource::new(|| (), move |_| get_console_mail(id));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(m) => view! {
                        <h2 id="mail-subject">{m.summary.subject.clone()}</h2>
                        <dl class="facts">
                            <dt>"To"</dt><dd>{m.summary.to.clone()}</dd>
                            <dt>"Kept"</dt><dd><When at=m.summary.received_at/></dd>
                        </dl>
                        <pre class="mail-text" id="mail-text">{m.body.clone()}</pre>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
