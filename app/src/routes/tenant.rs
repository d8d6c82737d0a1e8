//! A tenant's page (`/tenants/:slug?tab=…`): Overview, Instances, Modules,
//! Infra, SSO, Members, Backups, Logs (its audit trail of the last 7 days, at most 500
//! events, newest first). The tab is in the URL, so each is a link.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::fleet::get_fleet_tenant;
use crate::functions::integrations::DeleteTenant;
use crate::models::instance::modules_by_instance;
use crate::models::wizard::monthly_price;
use crate::models::{human_bytes, short_time};
use domain::wire::{url_component, TenantDetail};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const TABS: &[(&str, &str)] = &[
    ("overview", "Overview"),
    ("instances", "Instances"),
    ("modules", "Modules"),
    ("infra", "Infra"),
    ("sso", "SSO"),
    ("members", "Members"),
    ("backups", "Backups"),
    ("logs", "Logs"),
    ("billing", "Billing"),
];

#[component]
pub fn TenantPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let tab = Memo::new(move |_| {
        let t = query.with(|q| q.get("tab").unwrap_or_default());
        TABS.iter().find(|(k, _)| *k == t).map_or("overview", |(k, _)| *k)
    });
    let detail = Resource::new(slug, get_fleet_tenant);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the tenant…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <h1>"Tenant"</h1><p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(d) => {
                        let base = format!("/tenants/{}", url_component(&d.summary.slug));
                        let d = StoredValue::new(d);
                        view! {
                            <Title text=d.with_value(|d| d.summary.name.clone())/>
                            <div class="page-head">
                                <h1>{d.with_value(|d| d.summary.name.clone())}</h1>
                                <code>{d.with_value(|d| d.summary.slug.clone())}</code>
                                <span class="badge">{d.with_value(|d| d.summary.status.clone())}</span>
                            </div>
                            <nav class="tabs" aria-label="Tenant">
                                {TABS.iter().map(|(k, label)| {
                                    let href = format!("{base}?tab={k}");
                                    view! { <a class="tab" href=href aria-current=move || (tab.get() == *k).then_some("page")>{*label}</a> }
                                }).collect_view()}
                            </nav>
                            <section class="card" id=move || format!("tab-{}", tab.get())>
                                {move || d.with_value(|d| tab_view(d, tab.get()))}
                            </section>
                            {move || (tab.get() == "overview").then(|| view! {
                                <crate::components::supabase_panel::SupabasePanel tenant=d.with_value(|d| d.summary.slug.clone())/>
                                <TenantDeletion slug=d.with_value(|d| d.summary.slug.clone())/>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Deleting the tenant: platform owners only, after typing its slug; the
/// server refuses while it runs or keeps anything.
#[component]
fn TenantDeletion(slug: String) -> impl IntoView {
    let me = expect_context::<crate::MeResource>();
    let delete = ServerAction::<DeleteTenant>::new();
    let typed = RwSignal::new(String::new());
    let expected = slug.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/tenants", Default::default());
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || {
                let slug = slug.clone();
                let expected = expected.clone();
                Suspend::new(async move {
                    let owner = me.await.ok().flatten().and_then(|m| m.platform_role).as_deref() == Some("platform_owner");
                    owner.then(|| view! {
                        <details class="card" id="delete-tenant">
                            <summary class="danger">"Delete this tenant"</summary>
                            <div class="danger-box">
                                <p class="small">"Deleting removes the tenant, its members, subscriptions, links and history of deliveries. \
                                    It is refused while an instance is not decommissioned, a project exists, or a backup is still kept."</p>
                                <label>{format!("Type {slug} to confirm")}
                                    <input id="delete-tenant-slug" prop:value=move || typed.get() on:input=move |e| typed.set(event_target_value(&e))/>
                                </label>
                                <button type="button" class="danger" id="delete-tenant-yes"
                                    disabled=move || typed.with(|t| t.trim() != expected) || delete.pending().get()
                                    on:click=move |_| { delete.dispatch(DeleteTenant { slug: slug.clone() }); }>"Delete tenant"</button>
                                <ActionError error=Signal::derive(move || delete.value().with(error_message))/>
                            </div>
                        </details>
                    })
                })
            }}
        </Transition>
    }
}

fn or_dash(s: &Option<String>) -> String {
    s.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn tab_view(d: &TenantDetail, tab: &str) -> AnyView {
    let t = &d.summary;
    match tab {
        "instances" if d.instances.is_empty() => view! { <p class="muted" id="instances-empty">"No instance yet."</p> }.into_any(),
        "instances" => view! {
            <div class="table-wrap"><table class="table">
                <thead><tr><th>"Instance"</th><th>"Address"</th><th>"Odoo"</th><th>"Plan"</th><th>"State"</th></tr></thead>
                <tbody>{d.instances.iter().map(|i| view! {
                    <tr><td><a href=format!("/instances/{}", i.id)>{i.name.clone()}</a></td><td><a href=i.url.clone()>{i.url.clone()}</a></td>
                        <td>{i.odoo_version.clone()}</td><td>{i.plan.clone()}</td><td>{i.state.as_str()}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        "modules" if d.instances.is_empty() && d.bundles.is_empty() => view! {
            <p class="muted" id="modules-empty">"No module yet: they come with instances and bundles."</p>
        }.into_any(),
        "modules" => view! {
            {(!d.bundles.is_empty()).then(|| view! { <p class="small">"Its bundles: "{d.bundles.join(", ")}</p> })}
            <div class="table-wrap"><table class="table" id="tenant-modules">
                <thead><tr><th>"Module"</th><th>"Installed on"</th></tr></thead>
                <tbody>{modules_by_instance(&d.instances).into_iter().map(|(m, on)| view! {
                    <tr><td><a href=format!("/catalog/modules/{}", url_component(&m))><code>{m.clone()}</code></a></td><td class="small">{on.join(", ")}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        "infra" if d.instances.is_empty() => view! { <p class="muted" id="infra-empty">"No instance, so nothing runs yet."</p> }.into_any(),
        "infra" => view! {
            <div class="table-wrap"><table class="table" id="tenant-infra">
                <thead><tr><th>"Instance"</th><th>"Odoo"</th><th>"Plan"</th><th>"Database"</th><th>"State"</th></tr></thead>
                <tbody>{d.instances.iter().map(|i| view! {
                    <tr><td><a href=format!("/instances/{}", i.id)>{i.subdomain.clone()}</a></td><td>{i.odoo_version.clone()}</td>
                        <td><a href="/plans">{i.plan.clone()}</a></td><td>{i.db_strategy.as_str()}</td><td>{i.state.as_str()}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        "backups" if d.backups.is_empty() => view! { <p class="muted" id="backups-empty">"No backup yet."</p> }.into_any(),
        "backups" => view! {
            <div class="table-wrap"><table class="table" id="tenant-backups">
                <thead><tr><th>"When"</th><th>"Instance"</th><th>"Kind"</th><th>"State"</th><th>"Size"</th><th>"Restore tested"</th></tr></thead>
                <tbody>{d.backups.iter().map(|b| view! {
                    <tr><td class="small"><When at=b.created_at/></td><td>{b.instance.clone()}</td><td>{b.kind.clone()}</td>
                        <td>{b.state.clone()}</td><td>{b.size_bytes.map(human_bytes).unwrap_or_default()}</td>
                        <td class="small">{b.verified_at.as_ref().map(short_time).unwrap_or_else(|| "—".into())}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        "members" if d.members.is_empty() => view! { <p class="muted">"No member you can see."</p> }.into_any(),
        "members" => view! {
            <div class="table-wrap"><table class="table">
                <thead><tr><th>"Person"</th><th>"Email"</th><th>"Role"</th></tr></thead>
                <tbody>{d.members.iter().map(|m| view! {
                    <tr><td>{m.display_name.clone()}</td><td>{m.email.clone()}</td><td>{m.role.clone()}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        "sso" => match &d.sso_issuer {
            None => view! { <p class="muted" id="sso-none">"People sign in with passwords (no single sign-on)."</p> }.into_any(),
            Some(issuer) => view! {
                <dl class="facts"><dt>"OpenID Connect issuer"</dt><dd>{issuer.clone()}</dd>
                    <dt>"Last tested"</dt><dd>{d.sso_tested_at.as_ref().map(short_time).unwrap_or_default()}</dd></dl>
            }.into_any(),
        },
        "billing" => match &d.subscription {
            None => view! { <p class="muted" id="subscription-none">"No subscription."</p> }.into_any(),
            Some(s) => view! {
                <dl class="facts">
                    <dt>"Plan"</dt><dd>{s.plan_name.clone()}</dd>
                    <dt>"Price"</dt><dd>{monthly_price(s.monthly_price_cents)}</dd>
                    <dt>"Provider"</dt><dd>{s.provider.clone()}" (invoiced by the platform team)"</dd>
                    <dt>"Status"</dt><dd>{s.status.clone()}</dd>
                    <dt>"Since"</dt><dd>{s.started_at.as_ref().map(short_time).unwrap_or_default()}</dd>
                </dl>
            }.into_any(),
        },
        "logs" if d.events.is_empty() => view! { <p class="muted" id="logs-empty">"Nothing in the last 7 days."</p> }.into_any(),
        "logs" => view! {
            <div class="table-wrap"><table class="table" id="tenant-logs">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th></tr></thead>
                <tbody>{d.events.iter().map(|e| view! {
                    <tr><td class="small"><When at=e.at/></td><td>{e.actor_email.clone().unwrap_or_else(|| "system".into())}</td>
                        <td><code>{e.action.as_str()}</code></td><td class="small">{e.target.clone()}</td></tr>
                }).collect_view()}</tbody>
            </table></div>
        }.into_any(),
        _ => view! {
            <dl class="facts" id="tenant-overview">
                <dt>"Status"</dt><dd>{t.status.clone()}</dd>
                <dt>"Plan"</dt><dd>{or_dash(&t.plan)}</dd>
                <dt>"Contact"</dt><dd>{or_dash(&t.contact_email)}</dd>
                <dt>"Country"</dt><dd>{or_dash(&d.country)}</dd>
                <dt>"Language"</dt><dd>{or_dash(&d.language)}</dd>
                <dt>"Time zone"</dt><dd>{or_dash(&d.timezone)}</dd>
                <dt>"Region"</dt><dd>{if t.region.is_empty() { "—".to_owned() } else { t.region.clone() }}</dd>
                <dt>"Groups"</dt><dd>{if t.groups.is_empty() { "—".to_owned() } else { t.groups.join(", ") }}</dd>
                <dt>"Instances"</dt><dd>{format!("{} serving of {}", t.active_instances, t.instances)}</dd>
                <dt>"Created"</dt><dd><When at=t.created_at/></dd>
            </dl>
        }.into_any(),
    }
}
