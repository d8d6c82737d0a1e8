//! Automation (`/integrations/automation`): a tenant's event subscriptions —
//! instance and operation events delivered as signed webhooks, how n8n and
//! similar tools consume them — with their delivery history and retries.
//! The URL is checked as you type with the server's own rule; the signing
//! secret is shown once, when the subscription is made.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::integrations::{
    list_deliveries, list_webhooks, CreateWebhook, DeleteWebhook, RetryDelivery, SetWebhookActive, TestWebhook,
};
use crate::functions::tenants::list_tenants;
use crate::models::integrations::{delivery_badge, delivery_outcome, managed_tenants};
use crate::models::short_time;
use crate::MeResource;
use domain::types::{webhook_url, WEBHOOK_EVENTS};
use domain::wire::{WebhookView, DELIVERY_PAGE};
use leptos::prelude::*;
use leptos_meta::Title;

/// The three integrations pages, linked from each.
#[component]
pub fn IntegrationsNav(current: &'static str) -> impl IntoView {
    let pages = [("sso", "Single sign-on"), ("automation", "Automation"), ("analytics", "Analytics")];
    view! {
        <nav class="tabs" aria-label="Integrations">
            {pages.into_iter().map(|(k, label)| view! {
                <a class="tab" href=format!("/integrations/{k}") aria-current=(k == current).then_some("page")>{label}</a>
            }).collect_view()}
        </nav>
    }
}

#[component]
pub fn AutomationPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let create = ServerAction::<CreateWebhook>::new();
    let active = ServerAction::<SetWebhookActive>::new();
    let remove = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let retry = ServerAction::<RetryDelivery>::new();
    let state_filter = RwSignal::new(String::new());
    let page = RwSignal::new(1i64);
    let changed = move || {
        (
            create.version().get(),
            active.version().get(),
            remove.version().get(),
            test.version().get(),
            retry.version().get(),
        )
    };
    let webhooks = Resource::new(changed, |_| list_webhooks());
    let tenants = Resource::new(|| (), |_| list_tenants());
    let deliveries = Resource::new(
        move || (changed(), state_filter.get(), page.get()),
        |(_, state, page)| list_deliveries(None, (!state.is_empty()).then_some(state), page),
    );
    view! {
        <Title text="Automation"/>
        <h1>"Integrations"</h1>
        <IntegrationsNav current="automation"/>
        <p class="muted">"Instance and operation events of a tenant, sent as signed webhooks (the Standard Webhooks \
            headers: " <code>"webhook-id"</code>", "<code>"webhook-timestamp"</code>", "<code>"webhook-signature"</code>
            "). Point n8n's Webhook node, or any https endpoint, at them. Failed deliveries are retried for about a day."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok().flatten();
                let all: Vec<(String, String)> =
                    tenants.await.map(|ts| ts.into_iter().map(|t| (t.slug, t.name)).collect()).unwrap_or_default();
                let managed = managed_tenants(me.as_ref(), &all);
                let list = webhooks.await;
                view! {
                    <section class="card">
                        <h2>"Subscriptions"</h2>
                        {match list {
                            Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <div class="empty" id="webhooks-empty"><p>"No event subscription yet."</p></div>
                            }.into_any(),
                            Ok(list) => view! { <WebhookTable list=list active=active remove=remove test=test/> }.into_any(),
                        }}
                        <ActionError error=Signal::derive(move || {
                            active.value().with(error_message)
                                .or_else(|| remove.value().with(error_message))
                                .or_else(|| test.value().with(error_message))
                        })/>
                        {(!managed.is_empty()).then(|| view! { <NewWebhookForm tenants=managed create=create/> })}
                    </section>
                }.into_any()
            })}
        </Transition>
        <section class="card">
            <div class="page-head">
                <h2>"Deliveries"</h2>
                <label class="small">"State "
                    <select id="delivery-state" on:change=move |e| { state_filter.set(event_target_value(&e)); page.set(1); }>
                        <option value="">"all"</option>
                        {["pending", "sending", "failed", "delivered", "gave_up"].map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        Ok(p) if p.deliveries.is_empty() => view! {
                            <p class="muted" id="deliveries-empty">"No delivery yet."</p>
                        }.into_any(),
                        Ok(p) => {
                            let pages = (p.total + DELIVERY_PAGE - 1) / DELIVERY_PAGE;
                            view! {
                                <div class="table-wrap"><table class="table" id="deliveries">
                                    <thead><tr><th>"When"</th><th>"Tenant"</th><th>"Event"</th><th>"State"</th>
                                        <th>"Tries"</th><th>"Result"</th><th>"Next try"</th><th></th></tr></thead>
                                    <tbody>{p.deliveries.into_iter().map(|d| {
                                        let retryable = matches!(d.state.as_str(), "failed" | "gave_up");
                                        let payload = serde_json::to_string_pretty(&d.payload).unwrap_or_default();
                                        view! {
                                            <tr>
                                                <td class="small"><When at=d.created_at/></td>
                                                <td>{d.tenant_slug.clone()}</td>
                                                <td><details><summary><code>{d.event.clone()}</code></summary>
                                                    <p class="small muted">{d.url.clone()}</p><pre class="small">{payload}</pre></details></td>
                                                <td><span class=delivery_badge(&d.state)>{d.state.clone()}</span></td>
                                                <td>{d.attempts}</td>
                                                <td class="small">{delivery_outcome(&d)}</td>
                                                <td class="small">{d.next_attempt_at.as_ref().map(short_time).unwrap_or_default()}</td>
                                                <td>{retryable.then(|| view! {
                                                    <button type="button" class="small" on:click=move |_| { retry.dispatch(RetryDelivery { id: d.id }); }>"Retry"</button>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}</tbody>
                                </table></div>
                                <div class="row small">
                                    <button type="button" disabled=move || page.get() <= 1 on:click=move |_| page.update(|p| *p -= 1)>"Newer"</button>
                                    <span class="muted">{format!("page {} of {} · {} deliveries", p.page, pages.max(1), p.total)}</span>
                                    <button type="button" disabled={p.page >= pages} on:click=move |_| page.update(|p| *p += 1)>"Older"</button>
                                </div>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <ActionError error=Signal::derive(move || retry.value().with(error_message))/>
        </section>
    }
}

#[component]
fn WebhookTable(
    list: Vec<WebhookView>,
    active: ServerAction<SetWebhookActive>,
    remove: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
) -> impl IntoView {
    view! {
        <div class="table-wrap"><table class="table" id="webhooks">
            <thead><tr><th>"Tenant"</th><th>"Sends to"</th><th>"Events"</th><th>"State"</th><th>"Deliveries"</th><th></th></tr></thead>
            <tbody>{list.into_iter().map(|w| {
                let id = w.id;
                let is_active = w.active;
                let confirming = RwSignal::new(false);
                view! {
                    <tr>
                        <td>{w.tenant_name.clone()}</td>
                        <td class="small"><code class="secret">{w.url.clone()}</code><br/><span class="muted">{w.description.clone()}</span></td>
                        <td class="small">{w.events.join(", ")}</td>
                        <td>{if is_active { view! { <span class="badge badge-ok">"active"</span> } } else { view! { <span class="badge">"paused"</span> } }}</td>
                        <td class="small">
                            {format!("{} waiting · {} given up", w.waiting, w.gave_up)}<br/>
                            {w.last_state.clone().map(|s| format!("last: {s}, {}", w.last_at.as_ref().map(crate::models::short_time).unwrap_or_default()))}
                        </td>
                        <td class="row">
                            <button type="button" class="small" on:click=move |_| { test.dispatch(TestWebhook { id }); }>"Send test"</button>
                            <button type="button" class="small" on:click=move |_| { active.dispatch(SetWebhookActive { id, active: !is_active }); }>
                                {if is_active { "Pause" } else { "Resume" }}
                            </button>
                            <Show when=move || !confirming.get() fallback=move || view! {
                                <button type="button" class="small danger" on:click=move |_| { remove.dispatch(DeleteWebhook { id }); }>"Delete, with its history"</button>
                                <button type="button" class="small" on:click=move |_| confirming.set(false)>"Keep"</button>
                            }>
                                <button type="button" class="small" on:click=move |_| confirming.set(true)>"Delete…"</button>
                            </Show>
                        </td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table></div>
    }
}

#[component]
fn NewWebhookForm(tenants: Vec<(String, String)>, create: ServerAction<CreateWebhook>) -> impl IntoView {
    let tenant = RwSignal::new(tenants.first().map(|t| t.0.clone()).unwrap_or_default());
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let events = RwSignal::new(
        WEBHOOK_EVENTS
            .iter()
            .filter(|(k, _)| k.starts_with("operation."))
            .map(|(k, _)| (*k).to_owned())
            .collect::<Vec<_>>(),
    );
    let url_error = move || url.with(|u| (!u.trim().is_empty()).then(|| webhook_url(u).err()).flatten());
    let invalid = move || url.with(|u| webhook_url(u).is_err()) || events.with(Vec::is_empty);
    let secret = move || create.value().with(|v| v.as_ref().and_then(|r| r.as_ref().ok()).map(|c| c.secret.clone()));
    view! {
        <form class="stack narrow-form" id="new-webhook" on:submit=move |e| {
            e.prevent_default();
            create.dispatch(CreateWebhook { tenant: tenant.get(), url: url.get(), description: description.get(), events: events.get() });
        }>
            <h3>"Add a subscription"</h3>
            <label>"Tenant" <select id="webhook-tenant" on:change=move |e| tenant.set(event_target_value(&e))>
                {tenants.into_iter().map(|(s, n)| view! { <option value=s.clone()>{n}</option> }).collect_view()}
            </select></label>
            <label>"URL" <small class="muted">"https:// on a host name, e.g. your n8n Webhook node's production URL"</small>
                <input id="webhook-url" type="url" required maxlength="2000" aria-invalid=move || url_error().is_some().to_string()
                    prop:value=move || url.get() on:input=move |e| url.set(event_target_value(&e))/>
            </label>
            {move || url_error().map(|e| view! { <p class="error small" id="webhook-url-error">{e}</p> })}
            <label>"Description" <input id="webhook-description" maxlength="200"
                prop:value=move || description.get() on:input=move |e| description.set(event_target_value(&e))/></label>
            <fieldset><legend>"Events"</legend>
                {WEBHOOK_EVENTS.iter().map(|(k, what)| {
                    let k = (*k).to_owned();
                    let key = k.clone();
                    let label = k.clone();
                    view! {
                        <label class="check"><input type="checkbox" value=k.clone()
                            prop:checked=move || events.with(|e| e.contains(&key))
                            on:change=move |e| {
                                let on = event_target_checked(&e);
                                events.update(|list| { list.retain(|x| *x != k); if on { list.push(k.clone()); } });
                            }/>
                            <code>{label}</code>" "<span class="muted small">{*what}</span>
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <ActionError error=Signal::derive(move || create.value().with(error_message))/>
            <button type="submit" class="primary" id="webhook-create" disabled=invalid>"Subscribe"</button>
            {move || secret().map(|s| view! {
                <div class="notice" id="webhook-secret" role="status">
                    <p><strong>"Signing secret — copy it now, it is not shown again:"</strong></p>
                    <code class="secret">{s}</code>
                </div>
            })}
        </form>
    }
}
