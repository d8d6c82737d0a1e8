//! The tenant portal (`/portal`): for the tenants one administers, their
//! instances with storage used against the plan, and the subscription.

use crate::functions::fleet::get_fleet_tenant;
use crate::functions::instances::measure_instance_usage;
use crate::models::instance::{quota_class, usage_text};
use crate::models::wizard::monthly_price;
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PortalPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    view! {
        <Title text="Portal"/>
        <h1>"Portal"</h1>
        <p class="muted">"Your organisations' instances, what they use of their plan, and your subscription."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin_of: Vec<String> = me.await.ok().flatten().map(|m| m.tenants.into_iter()
                    .filter(|t| t.role.as_deref() == Some("tenant_admin")).map(|t| t.slug).collect()).unwrap_or_default();
                if admin_of.is_empty() {
                    return view! { <div class="empty" id="portal-empty"><p>"You administer no organisation."</p></div> }.into_any();
                }
                admin_of.into_iter().map(|slug| view! { <TenantCard slug=slug/> }).collect_view().into_any()
            })}
        </Transition>
    }
}

#[component]
fn TenantCard(slug: String) -> impl IntoView {
    let detail = Resource::new(move || slug.clone(), get_fleet_tenant);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(d) => view! {
                        <section class="card portal-tenant">
                            <h2><a href=format!("/tenants/{}", d.summary.slug)>{d.summary.name.clone()}</a></h2>
                            <p class="small">{match &d.subscription {
                                Some(s) => format!("{} plan, {} — {}", s.plan_name, monthly_price(s.monthly_price_cents), s.status),
                                None => "No subscription on record.".to_owned(),
                            }}</p>
                            {if d.instances.is_empty() {
                                view! { <p class="muted" id="portal-no-instances">"No instance yet."</p> }.into_any()
                            } else {
                                view! { <ul class="plain">{d.instances.into_iter().map(|i| view! {
                                    <li><a href=format!("/instances/{}", i.id)>{i.name.clone()}</a>" "
                                        <span class="muted small">{i.state.as_str()}</span>" "<Usage id=i.id/></li>
                                }).collect_view()}</ul> }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Usage(id: uuid::Uuid) -> impl IntoView {
    let usage = Resource::new(move || id, measure_instance_usage);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                usage.await.ok().map(|u| view! { <span class=quota_class(u.level)>{usage_text(&u)}</span> })
            })}
        </Transition>
    }
}
