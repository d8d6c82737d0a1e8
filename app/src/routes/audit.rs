//! The audit timeline: who did what, newest first.

use crate::functions::audit::list_audit;
use crate::models::short_time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let events = Resource::new(|| (), |_| list_audit());
    view! {
        <Title text="Audit"/>
        <h1>"Audit trail"</h1>
        <p class="muted">"Append-only and hash-chained: every privileged action, by whom, from where."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <div class="empty"><p>"Nothing recorded yet."</p></div> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="audit">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th>"From"</th></tr></thead>
                            <tbody>{list.into_iter().map(|e| view! {
                                <tr><td class="small">{short_time(&e.at)}</td>
                                    <td>{e.actor_email.unwrap_or_else(|| "system".into())}</td>
                                    <td><code>{e.action}</code></td>
                                    <td><code>{e.target}</code></td>
                                    <td class="muted small">{e.ip.unwrap_or_default()}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
