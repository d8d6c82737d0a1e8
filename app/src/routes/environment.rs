//! An environment's monitoring page (`/environments/:id/monitoring`): whether it is up
//! and since when, its stable address, uptime over 24 h / 7 d / 30 d, charts
//! (response time, requests, errors, CPU, memory, database size) over 1 h,
//! 24 h, 7 d or 30 d, its recent health changes and its database's slowest
//! statements. The charts are SVG rendered on the server; in the browser a
//! WebSocket brings each new pass of the monitor and they redraw.

use crate::components::when::When;
use crate::functions::monitoring::environment_monitor;
use crate::models::chart::{format_value, svg, window};
use crate::models::{project_href, short_time, stage_class};
use domain::wire::EnvMonitor;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

const RANGES: [(&str, &str); 4] = [("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")];

#[component]
pub fn EnvironmentPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let env = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let range = move || query.with(|q| q.get("range")).unwrap_or_else(|| "24h".into());
    let data = Resource::new(
        move || (env(), range()),
        |(env, range)| async move {
            match env {
                Some(e) => environment_monitor(e, range).await,
                None => Err(crate::error::AppError {
                    code: domain::ErrorCode::NotFound,
                    message: "no such environment".into(),
                }),
            }
        },
    );
    view! {
        <Title text="Monitoring"/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(m) => view! { <Monitor initial=m/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format_value(v, "%")).unwrap_or_else(|| "—".into())
}

#[component]
fn Monitor(initial: EnvMonitor) -> impl IntoView {
    let data = RwSignal::new(initial);
    let live = RwSignal::new("connecting…".to_string());
    Effect::new(move |_| {
        #[cfg(target_arch = "wasm32")]
        connect(data, live);
    });
    let m = data.get_untracked();
    let env = m.env_id;
    let back = project_href(&m.tenant_slug, &m.project_slug);
    let range = m.range.clone();
    view! {
        <Title text=format!("{} · {} · Monitoring", m.branch, m.project_name)/>
        <p class="crumbs"><a href=back.clone()>{m.project_name.clone()}</a>" / "<a href=format!("/environments/{env}")><code>{m.branch.clone()}</code></a>" / monitoring"</p>
        <div class="page-head">
            <h1>"Monitoring"</h1>
            <span><code>{m.branch.clone()}</code>" "<span class=stage_class(m.stage)>{m.stage.as_str()}</span></span>
            {m.address.clone().map(|a| view! { <a class="address-link" href=a.clone() target="_blank" rel="noopener">{a.clone()}</a> })}
            <a href=format!("/environments/{env}/logs") id="runtime-logs-link">"Runtime logs"</a>
            <a href=format!("/alerts/{}", m.project_id)>"Alerts"</a>
        </div>
        <div class="cards health-cards" id="health">
            <div class="card">
                <div class="muted small">"Now"</div>
                {move || data.with(|m| match m.up {
                    Some(true) => view! { <strong class="ok" id="health-state">"Up"</strong> }.into_any(),
                    Some(false) => view! { <strong class="ko" id="health-state">"Down"</strong> }.into_any(),
                    None => view! { <strong class="muted" id="health-state">"Not probed yet"</strong> }.into_any(),
                })}
                {move || data.with(|m| m.since.map(|s| format!(" since {}", short_time(&s))))}
                {move || data.with(|m| m.last_detail.clone().map(|d| view! { <div class="muted small">{d}</div> }))}
            </div>
            <div class="card"><div class="muted small">"Uptime 24 h"</div><strong id="uptime-24h">{move || data.with(|m| pct(m.uptime_24h))}</strong></div>
            <div class="card"><div class="muted small">"Uptime 7 d"</div><strong>{move || data.with(|m| pct(m.uptime_7d))}</strong></div>
            <div class="card"><div class="muted small">"Uptime 30 d"</div><strong>{move || data.with(|m| pct(m.uptime_30d))}</strong></div>
        </div>
        <nav class="tabs ranges" aria-label="Range">
            {RANGES.iter().map(|(r, label)| {
                let current = *r == range;
                view! { <a href=format!("/environments/{env}/monitoring?range={r}") class:active=current aria-current=if current { "page" } else { "false" }>{*label}</a> }
            }).collect_view()}
            <span class="muted small" id="live-status">{move || live.get()}</span>
        </nav>
        <div class="charts" id="charts">
            {move || data.with(|m| {
                let now = crate::models::now().timestamp();
                let (from, to, gap) = window(&m.range, now);
                m.series.iter().map(|s| view! {
                    <figure class="chart-box" inner_html=svg(s, from, to, gap, 560, 150)></figure>
                }).collect_view()
            })}
        </div>
        <h2>"Health changes"</h2>
        {move || data.with(|m| if m.changes.is_empty() {
            view! { <p class="muted">"No change recorded."</p> }.into_any()
        } else {
            view! {
                <table class="table" id="changes"><thead><tr><th>"When"</th><th>"State"</th><th>"Detail"</th></tr></thead><tbody>
                    {m.changes.iter().map(|c| view! {
                        <tr><td><When at=c.at/></td>
                            <td>{if c.up { view! { <span class="ok">"up"</span> } } else { view! { <span class="ko">"down"</span> } }}</td>
                            <td class="muted">{c.detail.clone().unwrap_or_default()}</td></tr>
                    }).collect_view()}
                </tbody></table>
            }.into_any()
        })}
        <h2>"Slowest statements"</h2>
        {move || data.with(|m| match &m.slow_queries_note {
            Some(note) => view! { <p class="muted" id="slow-queries-note">{note.clone()}</p> }.into_any(),
            None if m.slow_queries.is_empty() => view! { <p class="muted">"No statement recorded yet."</p> }.into_any(),
            None => view! {
                <table class="table" id="slow-queries"><thead><tr><th>"Statement"</th><th>"Calls"</th><th>"Mean"</th><th>"Total"</th></tr></thead><tbody>
                    {m.slow_queries.iter().map(|q| view! {
                        <tr><td><code class="small">{q.query.clone()}</code></td><td>{q.calls}</td>
                            <td>{format_value(q.mean_ms, "ms")}</td><td>{format_value(q.total_ms, "ms")}</td></tr>
                    }).collect_view()}
                </tbody></table>
            }.into_any(),
        })}
    }
}

/// Follows the monitor's passes: each message is the whole page's data for the current range.
#[cfg(target_arch = "wasm32")]
fn connect(data: RwSignal<EnvMonitor>, live: RwSignal<String>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let (env, range) = data.with_untracked(|m| (m.env_id, m.range.clone()));
    let location = leptos::prelude::window().location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    let host = location.host().unwrap_or_default();
    let url = format!("{scheme}://{host}/api/v1/environments/{env}/monitor/ws?range={range}");
    let Ok(ws) = web_sys::WebSocket::new(&url) else {
        live.set("could not open the live connection".into());
        return;
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        match serde_json::from_str::<EnvMonitor>(&text) {
            Ok(m) => data.set(m),
            Err(_) => live.set("an update could not be read; reload the page".into()),
        }
    });
    let on_open = Closure::<dyn FnMut()>::new(move || live.set("live".into()));
    let on_close = Closure::<dyn FnMut()>::new(move || live.set("disconnected; reload to reconnect".into()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    on_message.forget();
    on_open.forget();
    on_close.forget();
    let socket = send_wrapper::SendWrapper::new(ws);
    on_cleanup(move || {
        let _ = socket.close();
    });
}
