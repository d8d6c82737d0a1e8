//! The support center (`/support`, everyone signed in): the platform's
//! services and whether they answer, runbooks (platform staff write them),
//! and support requests with their states (a tenant's people open them,
//! staff answer).

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::support::{list_requests, list_runbooks, AnswerRequest, OpenRequest, SaveRunbook};
use crate::functions::system::system_status;
use crate::models::short_time;
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SupportPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let save = ServerAction::<SaveRunbook>::new();
    let open = ServerAction::<OpenRequest>::new();
    let answer = ServerAction::<AnswerRequest>::new();
    let status = Resource::new(|| (), |_| system_status());
    let runbooks = Resource::new(move || save.version().get(), |_| list_runbooks());
    let requests = Resource::new(move || (open.version().get(), answer.version().get()), |_| list_requests());
    view! {
        <Title text="Support"/>
        <h1>"Support"</h1>
        <section class="card" id="service-status">
            <h2>"Platform services"</h2>
            <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                {move || Suspend::new(async move {
                    let engine = match status.await {
                        Ok(s) => match s.docker {
                            Ok(v) => view! { <li><span class="badge badge-ok">"up"</span>" Container engine: "{v}</li> }.into_any(),
                            Err(why) => view! { <li><span class="badge badge-ko">"down"</span>" Container engine: "{why}</li> }.into_any(),
                        },
                        Err(e) => view! { <li class="error">{e.message}</li> }.into_any(),
                    };
                    view! { <ul class="plain">
                        <li><span class="badge badge-ok">"up"</span>" Console and its database (this page came from them)"</li>
                        {engine}
                    </ul> }
                })}
            </Transition>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok().flatten();
                let staff = crate::models::is_platform_staff(me.as_ref());
                let tenants: Vec<(String, String)> = me.map(|m| m.tenants.into_iter().map(|t| (t.slug, t.name)).collect()).unwrap_or_default();
                let books = runbooks.await;
                let reqs = requests.await;
                view! {
                    <section class="card">
                        <h2>"Runbooks"</h2>
                        {match books {
                            Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted" id="runbooks-empty">"No runbook yet."</p> }.into_any(),
                            Ok(list) => view! { <div id="runbooks">{list.into_iter().map(|r| view! {
                                <details class="runbook">
                                    <summary><strong>{r.title.clone()}</strong>" "<span class="muted small">{format!("updated {}", short_time(&r.updated_at))}</span></summary>
                                    <div class="runbook-body markdown" inner_html=r.body_html.clone()></div>
                                </details>
                            }).collect_view()}</div> }.into_any(),
                        }}
                        {staff.then(|| view! {
                            <ActionForm action=save attr:class="stack" attr:id="runbook-form">
                                <label>"Title" <input name="title" required maxlength="120"/></label>
                                <label>"Slug" <small class="muted">"optional; the same slug replaces a runbook"</small> <input name="slug" maxlength="63"/></label>
                                <label>"Text" <small class="muted">"Markdown: headings, lists, links, tables, `code`"</small> <textarea name="body" rows="5"></textarea></label>
                                <ActionError error=Signal::derive(move || save.value().with(error_message))/>
                                <button type="submit">"Save runbook"</button>
                            </ActionForm>
                        })}
                    </section>
                    <section class="card">
                        <h2>"Support requests"</h2>
                        {match reqs {
                            Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! { <p class="muted" id="requests-empty">"No support request."</p> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap"><table class="table" id="support-requests">
                                    <thead><tr><th>"Opened"</th><th>"Tenant"</th><th>"Subject"</th><th>"State"</th><th>"Answer"</th></tr></thead>
                                    <tbody>{list.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="small"><When at=r.created_at/><br/>{r.opened_by.clone().unwrap_or_default()}</td>
                                            <td>{r.tenant_slug.clone()}</td>
                                            <td><strong>{r.subject.clone()}</strong><div class="small runbook-body">{r.body.clone()}</div></td>
                                            <td><span class="badge">{r.state.clone()}</span></td>
                                            <td class="small">
                                                <div class="runbook-body">{r.answer.clone().unwrap_or_default()}</div>
                                                {staff.then(|| view! {
                                                    <ActionForm action=answer attr:class="stack">
                                                        <input type="hidden" name="id" value=r.id.to_string()/>
                                                        <textarea name="answer" rows="2" aria-label="Answer"></textarea>
                                                        <select name="state" aria-label="State">
                                                            {domain::wire::SUPPORT_STATES.iter().copied().map(|s| view! { <option value=s selected=s == r.state>{s}</option> }).collect_view()}
                                                        </select>
                                                        <button type="submit">"Save"</button>
                                                    </ActionForm>
                                                })}
                                            </td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table></div>
                            }.into_any(),
                        }}
                        <ActionError error=Signal::derive(move || answer.value().with(error_message))/>
                        {(!tenants.is_empty()).then(|| view! {
                            <ActionForm action=open attr:class="stack narrow-form" attr:id="open-request">
                                <h3>"Ask for help"</h3>
                                <label>"For" <select name="tenant">{tenants.into_iter().map(|(s, n)| view! { <option value=s>{n}</option> }).collect_view()}</select></label>
                                <label>"Subject" <input name="subject" required maxlength="200"/></label>
                                <label>"What happens" <textarea name="body" rows="4"></textarea></label>
                                <ActionError error=Signal::derive(move || open.value().with(error_message))/>
                                <button type="submit" class="primary">"Open request"</button>
                            </ActionForm>
                        })}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}
