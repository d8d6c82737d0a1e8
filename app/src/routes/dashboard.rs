//! The landing page: what exists, what needs attention, what to do next.

use crate::functions::{projects::list_projects, system::system_status};
use crate::models::project_href;
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let projects = Resource::new(|| (), |_| list_projects());
    let status = Resource::new(|| (), |_| system_status());
    view! {
        <Title text="Dashboard"/>
        <h1>"Dashboard"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = me.await.ok().flatten();
                let staff = crate::models::is_platform_staff(me.as_ref());
                let greeting = me.map(|m| format!("Welcome, {}.", m.display_name));
                let docker = match status.await {
                    Ok(s) => match s.docker {
                        Ok(v) => view! { <p class="ok">"Container engine: " {v}</p> }.into_any(),
                        Err(why) => view! { <p class="warn">"Container engine unavailable: " {why}</p> }.into_any(),
                    },
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                };
                let list = projects.await.unwrap_or_default();
                let body = if list.is_empty() {
                    view! {
                        <div class="empty">
                            <h2>"No projects yet"</h2>
                            <p>"A project connects a git repository to OdooOps. Create one, then push a branch to build it."</p>
                            <a class="button primary" href="/projects">"Create your first project"</a>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <section class="card">
                            <h2>"Recent projects"</h2>
                            <ul class="plain">
                                {list.into_iter().take(8).map(|p| view! {
                                    <li><a href=project_href(&p.tenant_slug, &p.slug)>{p.name}</a>
                                        " " <span class="muted">{p.tenant_slug} " · Odoo " {p.odoo_version}</span></li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any()
                };
                view! {
                    <p class="lead">{greeting}</p> {docker}
                    {staff.then(|| view! { <crate::routes::fleet::FleetSummary/> })}
                    <FleetHealthCard/>
                    {body}
                }
            })}
        </Transition>
    }
}

/// Every serving environment the viewer can see: up or down, uptime over a
/// day, response time with the last hour's sparkline; down ones first.
#[component]
fn FleetHealthCard() -> impl IntoView {
    use crate::models::chart::{format_value, svg, window};
    let health = Resource::new(|| (), |_| crate::functions::monitoring::list_fleet_health());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let list = health.await.unwrap_or_default();
                (!list.is_empty()).then(|| {
                    let now = crate::models::now().timestamp();
                    let (from, to, gap) = window("1h", now);
                    view! {
                        <section class="card" id="fleet-health">
                            <h2>"Environments"</h2>
                            <table class="table"><thead><tr><th>"Environment"</th><th>"State"</th><th>"Uptime 24 h"</th><th>"Response"</th><th>"Last hour"</th></tr></thead><tbody>
                            {list.into_iter().map(|h| {
                                let series = domain::wire::SeriesView {
                                    metric: "latency_ms".into(), title: String::new(), unit: "ms".into(), points: h.latency_points.clone(),
                                };
                                view! {
                                    <tr>
                                        <td><a href=format!("/environments/{}/monitoring", h.env_id)>{h.project_name.clone()}" · "<code>{h.branch.clone()}</code></a>
                                            " "<span class=crate::models::stage_class(h.stage)>{h.stage.as_str()}</span></td>
                                        <td>{if h.up { view! { <span class="ok">"up"</span> } } else { view! { <span class="ko">"down"</span> } }}</td>
                                        <td>{h.uptime_24h.map(|u| format_value(u, "%")).unwrap_or_default()}</td>
                                        <td>{h.latency_ms.map(|l| format_value(l, "ms")).unwrap_or_default()}</td>
                                        <td class="sparkline" inner_html=svg(&series, from, to, gap, 160, 40)></td>
                                    </tr>
                                }
                            }).collect_view()}
                            </tbody></table>
                        </section>
                    }
                })
            })}
        </Suspense>
    }
}
