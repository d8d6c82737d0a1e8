//! The audit timeline: who did what, newest first, filtered by actor, action
//! and dates, exported as CSV. Auditors read everything and change nothing.

use crate::components::when::When;
use crate::functions::audit::list_audit;
use crate::functions::projects::list_projects;
use crate::models::audit::{csv_href, filter};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AuditPage() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let projects = Resource::new(|| (), |_| list_projects());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let events = Resource::new(
        move || (actor.get(), action.get(), project.get(), from.get(), to.get()),
        |(a, b, p, c, d)| list_audit(a, b, p, c, d),
    );
    let csv = move || {
        filter(&actor.get(), &action.get(), &project.get(), &from.get(), &to.get())
            .map(|f| csv_href(&f))
            .unwrap_or_default()
    };
    view! {
        <Title text="Audit"/>
        <h1>"Audit trail"</h1>
        <p class="muted">"Append-only and hash-chained: every privileged action, by whom, from where."</p>
        <div class="row" id="audit-filters">
            <input type="search" placeholder="who (email)" aria-label="Actor" on:change=move |e| actor.set(event_target_value(&e))/>
            <input type="search" placeholder="action (e.g. backup.)" aria-label="Action" on:change=move |e| action.set(event_target_value(&e))/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = projects.await.unwrap_or_default();
                    view! {
                        <select aria-label="Project" id="audit-project" on:change=move |e| project.set(event_target_value(&e))>
                            <option value="">"all projects"</option>
                            {list.into_iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                        </select>
                    }
                })}
            </Transition>
            <input type="date" aria-label="From" on:change=move |e| from.set(event_target_value(&e))/>
            <input type="date" aria-label="To" on:change=move |e| to.set(event_target_value(&e))/>
            <a class="button" id="audit-csv" href=csv download="">"Export CSV"</a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <div class="empty"><p>"Nothing recorded yet."</p></div> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="audit">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th>"From"</th></tr></thead>
                            <tbody>{list.into_iter().map(|e| view! {
                                <tr><td class="small"><When at=e.at/></td>
                                    <td>{e.actor_email.unwrap_or_else(|| "system".into())}</td>
                                    <td><code>{e.action.as_str()}</code></td>
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
