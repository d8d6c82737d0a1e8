//! Tenant instances: the list with a create form (tenant admins), and one
//! instance's page: its state and address, the operations its state allows,
//! every operation with a link to its live log, its custom domains and its
//! tenant's members.

use crate::components::forms::{error_message, ActionError};
use crate::components::subdomain_field::SubdomainField;
use crate::functions::instances::{
    get_instance, list_instance_operations, list_instances, measure_instance_usage, CreateInstance, OperateInstance,
};
use crate::models::instance::{
    downtime_text, move_label, moving, needs_confirmation, one_click, operation_class, operation_label, plan_terms,
    quota_class, state_class, usage_text,
};
use crate::routes::instance_people::{ApplyBundleForm, DomainsCard, MembersCard};
use domain::types::OperationKind;
use domain::wire::InstanceUsage;

/// The storage line: used against the plan, with its level (a failed measure says so).
fn usage_view(u: Result<InstanceUsage, crate::error::AppError>) -> AnyView {
    match u {
        Err(e) => view! { <span class="muted">{e.message}</span> }.into_any(),
        Ok(u) => view! {
            <span class=quota_class(u.level)>{usage_text(&u)}</span>
            <meter min="0" max="100" low="80" high="99" optimum="0" value=u.storage_percent.min(100).to_string()></meter>
            <div class="muted small">{plan_terms(&u.plan)}</div>
        }
        .into_any(),
    }
}
use crate::components::when::When;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn InstancesPage() -> impl IntoView {
    let create = ServerAction::<CreateInstance>::new();
    let list = Resource::new(move || create.version().get(), |_| list_instances());
    view! {
        <Title text="Instances"/>
        <h1>"Instances"</h1>
        <p class="muted">"Odoo workspaces run for your organisation, each on its own address."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted" id="instances">"No instance yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="instances">
                            <thead><tr><th>"Name"</th><th>"Address"</th><th>"State"</th><th>"Tenant"</th><th>"Created"</th></tr></thead>
                            <tbody>{list.into_iter().map(|i| view! {
                                <tr>
                                    <td><a href=format!("/instances/{}", i.id)>{i.name.clone()}</a></td>
                                    <td><a href=i.url.clone() target="_blank" rel="noopener"><code>{i.url.clone()}</code></a></td>
                                    <td><span class=state_class(i.state)>{i.state.as_str()}</span></td>
                                    <td><code>{i.tenant_slug.clone()}</code></td>
                                    <td class="muted small"><When at=i.created_at/></td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="card narrow">
            <h2>"New instance"</h2>
            <ActionForm action=create attr:class="stack" attr:id="new-instance">
                <label>"Name" <input type="text" name="name" required maxlength="120"/></label>
                <SubdomainField/>
                <label>"Modules" <small class="muted">" (besides base; e.g. sale, crm, stock)"</small>
                    <input type="text" name="modules" maxlength="4000"/></label>
                <label>"Admin login (email)" <input type="email" name="admin_login" required maxlength="200"/></label>
                <label>"Admin password" <small class="muted">" (at least 10 characters; OdooOps does not keep it)"</small>
                    <input type="password" name="admin_password" required minlength="10" maxlength="128" autocomplete="new-password"/></label>
                <ActionError error=Signal::derive(move || create.value().with(error_message))/>
                {move || create.value().get().and_then(|r| r.ok()).map(|i| view! {
                    <p class="notice" id="instance-created">"Provisioning "
                        <a href=format!("/instances/{}", i.id)>{i.name.clone()}</a>"…"</p>
                })}
                <button type="submit" class="primary">"Create instance"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn InstancePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let operate = ServerAction::<OperateInstance>::new();
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(3)) {
            on_cleanup(move || h.clear());
        }
    });
    let instance = Resource::new(
        move || (id(), tick.get(), operate.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_instance(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let operations = Resource::new(
        move || (id(), tick.get(), operate.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => list_instance_operations(id).await.unwrap_or_default(),
                None => Vec::new(),
            }
        },
    );
    // Measured when the page opens and after each operation asked here (not on every refresh).
    let usage = Resource::new(
        move || (id(), operate.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => measure_instance_usage(id).await,
                None => {
                    Err(crate::error::AppError { code: domain::ErrorCode::NotFound, message: "no instance".into() })
                }
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading instance…"</p> }>
            {move || Suspend::new(async move {
                match instance.await {
                    Err(e) => view! { <h1>"Instance"</h1><p class="error">{e.message}</p> }.into_any(),
                    Ok(None) => view! { <h1>"Instance"</h1><p class="error">"No such instance."</p> }.into_any(),
                    Ok(Some(i)) => {
                        let ops = operations.await;
                        let usage = usage.await;
                        // A double click sends the same key, so it is one operation; the next render (one
                        // more operation listed) gets a new one.
                        let seen = ops.len();
                        let offered: Vec<_> = if i.may_operate { i.offered.iter().copied().filter(|k| one_click(*k)).collect() } else { Vec::new() };
                        view! {
                            <Title text=i.name.clone()/>
                            <div class="page-head">
                                <h1>{i.name.clone()}</h1>
                                <span class=state_class(i.state) id="instance-state">{i.state.as_str()}</span>
                                {moving(i.state).then(|| view! { <span class="muted small">"working…"</span> })}
                            </div>
                            <InstanceFacts i=i.clone() usage=usage/>
                            <p class="row">
                                {i.serving_build.filter(|_| i.may_operate).map(|b| view! {
                                    <a class="button" id="instance-shell" href=format!("/builds/{b}/shell") target="_blank" rel="noopener">"Shell"</a>
                                })}
                                {i.may_operate.then(|| view! {
                                    <a class="button" href=format!("/environments/{}/backups", i.env_id)>"Backups"</a>
                                })}
                            </p>
                            <div class="row" id="operations-offered">
                                {offered.into_iter().map(|k| {
                                    let confirm = needs_confirmation(k);
                                    view! {
                                        <ActionForm action=operate attr:class="inline">
                                            <input type="hidden" name="id" value=i.id.to_string()/>
                                            <input type="hidden" name="kind" value=k.as_str()/>
                                            <input type="hidden" name="idempotency_key" value=format!("{}-{}-{seen}", k.as_str(), i.id)/>
                                            {confirm.then(|| view! {
                                                <label class="small"><input type="checkbox" required/>" sure"</label>
                                            })}
                                            <button type="submit" class=if confirm { "danger" } else { "" }>{operation_label(k)}</button>
                                        </ActionForm>
                                    }
                                }).collect_view()}
                            </div>
                            {(i.may_move_database && i.offered.contains(&OperationKind::MigrateDatabase)).then(|| {
                                let to = i.db_strategy.other();
                                view! {
                                    <ActionForm action=operate attr:class="inline" attr:id="move-database">
                                        <input type="hidden" name="id" value=i.id.to_string()/>
                                        <input type="hidden" name="kind" value=OperationKind::MigrateDatabase.as_str()/>
                                        <input type="hidden" name="db_strategy" value=to.as_str()/>
                                        <input type="hidden" name="idempotency_key" value=format!("migrate-{}-{seen}", i.id)/>
                                        <label class="small"><input type="checkbox" required/>" a short maintenance window is fine"</label>
                                        <button type="submit">{move_label(to)}</button>
                                    </ActionForm>
                                }
                            })}
                            {(i.may_operate && i.offered.contains(&OperationKind::ApplyBundle)).then(|| view! {
                                <ApplyBundleForm id=i.id series=i.odoo_version.clone() seen=seen operate=operate/>
                            })}
                            <ActionError error=Signal::derive(move || operate.value().with(error_message))/>
                            <OperationsTable ops=ops/>
                            <DomainsCard id=i.id may_change=i.may_operate/>
                            <MembersCard id=i.id/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Every operation of an instance, newest first, with its steps, downtime and live log.
#[component]
fn OperationsTable(ops: Vec<domain::wire::InstanceOperationView>) -> impl IntoView {
    let rows = ops
        .into_iter()
        .map(|o| {
            let log = (!o.log.is_empty()).then(|| {
                view! { <ul class="oplog small">{o.log.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul> }
            });
            view! {
                <tr>
                    <td>{o.kind.as_str()}</td>
                    <td><span class=operation_class(o.state)>{o.state.as_str()}</span>
                        {o.error.clone().map(|e| view! { <div class="error small">{e}</div> })}
                        {o.downtime_ms.map(|ms| view! { <div class="small">{downtime_text(ms)}</div> })}
                        {(!o.added_modules.is_empty()).then(|| view! { <div class="small">{format!("adds {}", o.added_modules.join(", "))}</div> })}
                        {log}</td>
                    <td class="small">{o.requested_by.clone().unwrap_or_else(|| "OdooOps".into())}</td>
                    <td class="muted small"><When at=o.created_at/></td>
                    <td>{o.build_id.map(|b| view! { <a href=format!("/builds/{b}")>"live log"</a> })}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Operations"</h2>
            <table class="table" id="operations">
                <thead><tr><th>"What"</th><th>"State"</th><th>"By"</th><th>"Asked"</th><th>"Log"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// What an instance is: address, Odoo, modules, plan and storage, database, admin, and why it is in error.
#[component]
fn InstanceFacts(i: domain::wire::InstanceView, usage: Result<InstanceUsage, crate::error::AppError>) -> impl IntoView {
    view! {
        <dl class="facts">
            <dt>"Address"</dt><dd><a href=i.url.clone() target="_blank" rel="noopener" id="instance-url">{i.url.clone()}</a></dd>
            <dt>"Odoo"</dt><dd>{i.odoo_version.clone()}</dd>
            <dt>"Modules"</dt><dd>{if i.modules.is_empty() { "base".to_owned() } else { i.modules.join(", ") }}</dd>
            <dt>"Plan"</dt><dd>{i.plan.clone()}</dd>
            <dt>"Storage"</dt><dd id="instance-usage">{usage_view(usage)}</dd>
            <dt>"Database"</dt><dd>{i.db_strategy.as_str()}</dd>
            <dt>"Admin"</dt><dd><code>{i.admin_login.clone()}</code></dd>
            {i.reason.clone().map(|r| view! { <dt>"Why"</dt><dd class="error">{r}</dd> })}
        </dl>
    }
}
