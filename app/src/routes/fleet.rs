//! The platform pages over the fleet: the tenants table (filters by status,
//! plan, region and group, a debounced search, sortable columns, 20 rows a
//! page), the operations timeline, billing (subscriptions and plans), plans,
//! and the size profiles instances are made in. Each with its empty, loading
//! and error state.

use crate::components::forms::{error_message, ActionError};
use crate::components::pager::Pager;
use crate::components::when::When;
use crate::functions::fleet::{
    fleet_capacity, fleet_operations, fleet_tenants, plan_changes, subscriptions, DecidePlanChange, ProposePlanChange,
};
use crate::functions::instances::{list_plans, OperateInstance};
use crate::models::capacity::capacity_meters;
use crate::models::short_time;
use crate::models::table::{choices, paged, tenants, TenantFilter, TenantSort, PAGE};
use crate::models::wizard::{monthly_price, plan_limits, price};
use crate::routes::operation_drawer::OperationDrawer;
use domain::types::{size_needs, size_summary, SIZE_PROFILES};
use domain::wire::FleetTenant;
use leptos::prelude::*;
use leptos_meta::Title;

/// The tenants the caller sees, filtered, sorted and paged in the browser.
#[component]
pub fn FleetTable() -> impl IntoView {
    let list = Resource::new(|| (), |_| fleet_tenants());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading tenants…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(l) if l.is_empty() => view! { <div class="empty" id="tenants-empty"><p>"No tenant yet."</p></div> }.into_any(),
                    Ok(l) => view! { <FleetRows list=l/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FleetRows(list: Vec<FleetTenant>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let filter = RwSignal::new(TenantFilter::default());
    let sort = RwSignal::new((TenantSort::Name, false));
    let page = RwSignal::new(0usize);
    // The search applies once typing pauses for a quarter second.
    let generation = StoredValue::new(0u64);
    let on_search = move |v: String| {
        typed.set(v.clone());
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.get_value() == mine {
                    filter.update(|f| f.search = v);
                    page.set(0);
                }
            },
            std::time::Duration::from_millis(250),
        );
    };
    let statuses = choices(list.iter().map(|t| t.status.as_str()));
    let plans = choices(list.iter().filter_map(|t| t.plan.as_deref()));
    let regions = choices(list.iter().map(|t| t.region.as_str()));
    let groups = choices(list.iter().flat_map(|t| t.groups.iter().map(String::as_str)));
    let list = StoredValue::new(list);
    let shown = Memo::new(move |_| {
        let (s, desc) = sort.get();
        list.with_value(|l| tenants(l, &filter.get(), s, desc))
    });
    let pages = Signal::derive(move || paged(&shown.get(), 0).1);
    let select = move |label: &'static str, values: Vec<String>, set: fn(&mut TenantFilter, String)| {
        view! {
            <label class="small">{label}
                <select on:change=move |e| { let v = event_target_value(&e); filter.update(|f| set(f, v)); page.set(0); }>
                    <option value="">"any"</option>
                    {values.into_iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let header = move |label: &'static str, col: TenantSort| {
        view! {
            <th aria-sort=move || match sort.get() { (c, false) if c == col => "ascending", (c, true) if c == col => "descending", _ => "none" }>
                <button type="button" class="link" on:click=move |_| sort.update(|(c, d)| { if *c == col { *d = !*d } else { *c = col; *d = false } })>{label}</button>
            </th>
        }
    };
    view! {
        <div class="row filters" id="tenant-filters">
            <label class="small">"Search"
                <input type="search" id="tenant-search" placeholder="name, slug or contact" prop:value=move || typed.get()
                    on:input=move |e| on_search(event_target_value(&e))/>
            </label>
            {select("Status", statuses, |f, v| f.status = v)}
            {select("Plan", plans, |f, v| f.plan = v)}
            {select("Region", regions, |f, v| f.region = v)}
            {select("Group", groups, |f, v| f.group = v)}
        </div>
        <div class="table-wrap">
            <table class="table" id="tenants">
                <thead><tr>
                    {header("Name", TenantSort::Name)}<th>"Slug"</th>{header("Status", TenantSort::Status)}
                    {header("Plan", TenantSort::Plan)}<th>"Region"</th><th>"Groups"</th>
                    {header("Instances", TenantSort::Instances)}{header("Created", TenantSort::Created)}
                </tr></thead>
                <tbody>{move || {
                    let (rows, _) = paged(&shown.get(), page.get());
                    if rows.is_empty() {
                        return view! { <tr><td colspan="8" class="muted">"No tenant matches these filters."</td></tr> }.into_any();
                    }
                    rows.into_iter().map(|t| view! {
                        <tr>
                            <td><a href=format!("/tenants/{}", domain::wire::url_component(&t.slug))>{t.name}</a></td><td><code>{t.slug.clone()}</code></td>
                            <td><span class=format!("badge badge-{}", if t.status == "active" { "ok" } else { "warn" })>{t.status.clone()}</span></td>
                            <td>{t.plan.unwrap_or_else(|| "—".into())}</td><td>{t.region}</td>
                            <td class="small">{t.groups.join(", ")}</td>
                            <td>{format!("{} / {}", t.active_instances, t.instances)}</td>
                            <td class="muted small"><When at=t.created_at/></td>
                        </tr>
                    }).collect_view().into_any()
                }}</tbody>
            </table>
        </div>
        <Pager page=page pages=pages/>
    }
}

#[component]
pub fn OperationsPage() -> impl IntoView {
    let offset = RwSignal::new(0i64);
    let rerun = ServerAction::<OperateInstance>::new();
    let ops = Resource::new(move || (offset.get(), rerun.version().get()), |(o, _)| fleet_operations(o));
    let selected = RwSignal::new(None);
    view! {
        <Title text="Operations"/>
        <OperationDrawer selected=selected rerun=rerun/>
        <h1>"Operations"</h1>
        <p class="muted">"Every change to an instance, newest first: provisioning, backups, restores, bundles, moves."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading operations…"</p> }>
            {move || Suspend::new(async move {
                match ops.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() && offset.get_untracked() == 0 => view! {
                        <div class="empty" id="operations-empty"><p>"No operation yet: they appear as instances are created and changed."</p></div>
                    }.into_any(),
                    Ok(list) => {
                        let more = list.len() > PAGE;
                        view! {
                            <div class="table-wrap"><table class="table" id="operations-timeline">
                                <thead><tr><th>"When"</th><th>"Instance"</th><th>"Tenant"</th><th>"Operation"</th><th>"State"</th><th>"Error"</th></tr></thead>
                                <tbody>{list.into_iter().take(PAGE).map(|o| {
                                    let details = o.clone();
                                    view! {
                                    <tr>
                                        <td class="small"><button type="button" class="link" on:click=move |_| selected.set(Some(details.clone()))><When at=o.created_at/></button></td>
                                        <td><a href=format!("/instances/{}", o.instance_id)>{o.instance}</a></td>
                                        <td>{o.tenant_slug}</td>
                                        <td>{o.kind.clone()}</td>
                                        <td><span class=format!("badge badge-{}", match o.state.as_str() { "done" => "ok", "failed" => "ko", _ => "running" })>{o.state.clone()}</span></td>
                                        <td class="small error">{o.error.clone().unwrap_or_default()}
                                            // A failed operation can be asked for again (the instance's rules apply).
                                            {(o.state == "failed").then(|| view! {
                                                <ActionForm action=rerun attr:class="inline">
                                                    <input type="hidden" name="id" value=o.instance_id.to_string()/>
                                                    <input type="hidden" name="kind" value=o.kind.clone()/>
                                                    <button type="submit" class="link">"Re-run"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }}).collect_view()}</tbody>
                            </table></div>
                            <ActionError error=Signal::derive(move || rerun.value().with(error_message))/>
                            <div class="row pager">
                                <button type="button" disabled=move || offset.get() == 0
                                    on:click=move |_| offset.update(|o| *o = (*o - PAGE as i64).max(0))>"Newer"</button>
                                <button type="button" disabled=!more on:click=move |_| offset.update(|o| *o += PAGE as i64)>"Older"</button>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn BillingPage() -> impl IntoView {
    let subs = Resource::new(|| (), |_| subscriptions());
    view! {
        <Title text="Billing"/>
        <h1>"Billing"</h1>
        <p class="muted">"OdooOps processes no payment: each tenant's subscription is a record of the manual provider, \
            and the platform team invoices from it."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading subscriptions…"</p> }>
            {move || Suspend::new(async move {
                match subs.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty" id="billing-empty"><p>"No subscription yet: the tenant wizard records one per tenant."</p></div>
                    }.into_any(),
                    Ok(list) => {
                        let total: i64 = list.iter().filter(|s| s.status == "active").map(|s| i64::from(s.monthly_price_cents)).sum();
                        view! {
                            <p id="billing-total">{format!("Active subscriptions: {} a month", price(total))}</p>
                            <div class="table-wrap"><table class="table" id="subscriptions">
                                <thead><tr><th>"Tenant"</th><th>"Plan"</th><th>"Price"</th><th>"Provider"</th><th>"Status"</th><th>"Since"</th></tr></thead>
                                <tbody>{list.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{s.tenant_name}" "<code>{s.tenant_slug}</code></td>
                                        <td>{s.plan_name}</td>
                                        <td>{monthly_price(s.monthly_price_cents)}</td>
                                        <td>{s.provider}</td>
                                        <td>{s.status}</td>
                                        <td class="muted small">{s.started_at.as_ref().map(short_time).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table></div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <PlanChanges/>
        <h2>"Plans"</h2>
        <PlansTable/>
    }
}

/// Plan changes: finance (and owners) propose, owners approve or reject.
#[component]
fn PlanChanges() -> impl IntoView {
    let me = expect_context::<crate::MeResource>();
    let propose = ServerAction::<ProposePlanChange>::new();
    let decide = ServerAction::<DecidePlanChange>::new();
    let changes = Resource::new(move || (propose.version().get(), decide.version().get()), |_| plan_changes());
    let plans = Resource::new(|| (), |_| list_plans());
    view! {
        <h2>"Plan changes"</h2>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = me.await.ok().flatten().and_then(|m| m.platform_role);
                let owner = role.as_deref() == Some("platform_owner");
                let proposes = owner || role.as_deref() == Some("finance_owner");
                let plans = plans.await.unwrap_or_default();
                let list = match changes.await {
                    Err(e) => return view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(l) => l,
                };
                view! {
                    {if list.is_empty() {
                        view! { <p class="muted" id="plan-changes-empty">"No plan change proposed."</p> }.into_any()
                    } else {
                        view! { <div class="table-wrap"><table class="table" id="plan-changes">
                            <thead><tr><th>"Tenant"</th><th>"From"</th><th>"To"</th><th>"Why"</th><th>"Proposed by"</th><th>"State"</th></tr></thead>
                            <tbody>{list.into_iter().map(|c| {
                                let waiting = c.state == "proposed";
                                view! { <tr>
                                    <td>{c.tenant_slug.clone()}</td><td>{c.from_plan.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{c.to_plan.clone()}</td><td class="small">{c.reason.clone()}</td>
                                    <td class="small">{c.proposed_by.clone().unwrap_or_default()}</td>
                                    <td>{c.state.clone()}
                                        {(owner && waiting).then(|| view! {
                                            <ActionForm action=decide attr:class="inline">
                                                <input type="hidden" name="id" value=c.id.to_string()/>
                                                <input type="hidden" name="approve" value="true"/>
                                                <button type="submit" class="primary">"Approve"</button>
                                            </ActionForm>
                                            <ActionForm action=decide attr:class="inline">
                                                <input type="hidden" name="id" value=c.id.to_string()/>
                                                <input type="hidden" name="approve" value="false"/>
                                                <button type="submit">"Reject"</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr> }
                            }).collect_view()}</tbody>
                        </table></div> }.into_any()
                    }}
                    <ActionError error=Signal::derive(move || decide.value().with(error_message))/>
                    {proposes.then(|| view! {
                        <ActionForm action=propose attr:class="stack narrow-form" attr:id="propose-plan">
                            <label>"Tenant (slug)" <input name="tenant" required maxlength="40"/></label>
                            <label>"New plan" <select name="to_plan">{plans.into_iter().map(|p| view! {
                                <option value=p.slug.clone()>{p.name.clone()}</option>
                            }).collect_view()}</select></label>
                            <label>"Why" <input name="reason" maxlength="2000"/></label>
                            <ActionError error=Signal::derive(move || propose.value().with(error_message))/>
                            <button type="submit">"Propose"</button>
                        </ActionForm>
                    })}
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn PlansTable() -> impl IntoView {
    let plans = Resource::new(|| (), |_| list_plans());
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading plans…"</p> }>
            {move || Suspend::new(async move {
                match plans.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <div class="empty" id="plans-empty"><p>"No plan yet."</p></div> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="table" id="plans-table">
                            <thead><tr><th>"Plan"</th><th>"Price"</th><th>"CPU"</th><th>"Memory"</th><th>"Limits"</th></tr></thead>
                            <tbody>{list.into_iter().map(|p| view! {
                                <tr>
                                    <td><strong>{p.name.clone()}</strong>" "<code>{p.slug.clone()}</code></td>
                                    <td>{monthly_price(p.monthly_price_cents)}</td>
                                    <td>{format!("{}", p.cpu_limit)}</td>
                                    <td>{format!("{} MB", p.memory_limit_mb)}</td>
                                    <td class="small">{plan_limits(&p)}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn PlansPage() -> impl IntoView {
    view! {
        <Title text="Plans"/>
        <h1>"Plans"</h1>
        <p class="muted">"What an instance may use: its containers' CPU and memory, workers, storage, users, how long backups are kept, and support."</p>
        <PlansTable/>
    }
}

#[component]
pub fn SizeProfilesPage() -> impl IntoView {
    view! {
        <Title text="Size profiles"/>
        <h1>"Size profiles"</h1>
        <p class="muted">"The infrastructure templates the tenant wizard offers. A profile's expected data and users decide, \
            with the plan, whether an instance's database is recommended a shared or a dedicated PostgreSQL server."</p>
        <div class="table-wrap"><table class="table" id="size-profiles">
            <thead><tr><th>"Profile"</th><th>"Expected data"</th><th>"People at once"</th><th>"Summary"</th></tr></thead>
            <tbody>{SIZE_PROFILES.iter().map(|s| {
                let (gb, users) = size_needs(s);
                view! { <tr><td><strong>{*s}</strong></td><td>{format!("{gb} GB")}</td><td>{users}</td><td class="small">{size_summary(s)}</td></tr> }
            }).collect_view()}</tbody>
        </table></div>
    }
}

/// The fleet at a glance, on the dashboard of platform staff: tenants by
/// status, instances serving and not, and the latest operations.
#[component]
pub fn FleetSummary() -> impl IntoView {
    let rerun = ServerAction::<OperateInstance>::new();
    let list = Resource::new(|| (), |_| fleet_tenants());
    let ops = Resource::new(move || rerun.version().get(), |_| fleet_operations(0));
    let capacity = Resource::new(|| (), |_| fleet_capacity());
    let selected = RwSignal::new(None);
    view! {
        <section class="card" id="fleet-summary">
            <OperationDrawer selected=selected rerun=rerun/>
            <h2>"Fleet"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the fleet…"</p> }>
                {move || Suspend::new(async move {
                    let (tenants, ops) = (list.await, ops.await);
                    match (tenants, ops) {
                        (Err(e), _) | (_, Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                        (Ok(t), Ok(o)) => {
                            let by_status = |s: &str| t.iter().filter(|x| x.status == s).count();
                            let total: i64 = t.iter().map(|x| x.instances).sum();
                            let up: i64 = t.iter().map(|x| x.active_instances).sum();
                            view! {
                                <div class="tiles">
                                    <div class="tile"><strong>{t.len()}</strong>" tenants: "{by_status("active")}" active, "{by_status("suspended")}" suspended"</div>
                                    <div class="tile"><strong>{up}</strong>" instances serving, "{total - up}" not"</div>
                                </div>
                                <CapacityMeters capacity=capacity/>
                                <h3>"Latest operations"</h3>
                                {if o.is_empty() {
                                    view! { <p class="muted small">"None yet."</p> }.into_any()
                                } else {
                                    view! { <ul class="plain small" id="latest-operations">{o.into_iter().take(5).map(|op| {
                                        let details = op.clone();
                                        view! {
                                            <li><button type="button" class="link" on:click=move |_| selected.set(Some(details.clone()))>
                                                {format!("{} · {} · {} · {}", short_time(&op.created_at), op.instance, op.kind, op.state)}
                                            </button></li>
                                        }
                                    }).collect_view()}</ul> }.into_any()
                                }}
                                <p class="small"><a href="/ai-console">"Recommendations"</a>" · "<a href="/integrations/sso">"Single sign-on"</a>" · "<a href="/integrations/automation">"Automation"</a>" · "<a href="/operations">"All operations"</a>" · "<a href="/tenants">"Tenants"</a>" · "<a href="/billing">"Billing"</a></p>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// Resource use against capacity: CPU and memory the live instances' plans
/// reserve against the runtime's, storage used against what plans allot.
#[component]
fn CapacityMeters(capacity: Resource<Result<domain::wire::FleetCapacity, crate::error::AppError>>) -> impl IntoView {
    view! {
        <Transition fallback=|| view! { <p class="muted small">"Measuring capacity…"</p> }>
            {move || Suspend::new(async move {
                match capacity.await {
                    Err(e) => view! { <p class="error small">{e.message}</p> }.into_any(),
                    Ok(c) => view! {
                        <div class="meters" id="capacity">
                            {capacity_meters(&c).into_iter().map(|m| view! {
                                <div class="meter-row">
                                    <span class="small">{m.label}</span>
                                    <div class="meter" role="meter" aria-label=m.label aria-valuemin="0" aria-valuemax="100"
                                        aria-valuenow=m.percent.min(100).to_string()>
                                        <div class=format!("meter-fill meter-{}", m.level) style=format!("width: {}%", m.percent.min(100))></div>
                                    </div>
                                    <span class="small">{format!("{} ({} %)", m.text, m.percent)}</span>
                                </div>
                            }).collect_view()}
                            <p class="muted small">{format!("{} instances live · {}", c.running, c.runtime)}</p>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
