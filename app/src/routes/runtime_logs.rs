//! An environment's runtime logs (`/environments/:id/logs`): what its
//! serving Odoo printed across builds, newest first, filtered by level,
//! logger, text and time range (the filters live in the URL, so a view can
//! be shared); **Follow** adds new lines as they arrive; **Export CSV**
//! downloads the same view.

use crate::components::when::When;
use crate::functions::monitoring::runtime_logs;
use crate::models::level_class;
use domain::wire::RuntimeLogLine;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn RuntimeLogsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let env = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let filter = move || {
        query.with(|q| {
            (
                q.get("level").unwrap_or_default(),
                q.get("logger").unwrap_or_default(),
                q.get("text").unwrap_or_default(),
                q.get("range").unwrap_or_else(|| "24h".into()),
            )
        })
    };
    let lines = Resource::new(
        move || (env(), filter()),
        |(env, (level, logger, text, range))| async move {
            match env {
                Some(e) => runtime_logs(e, level, logger, text, range, None).await,
                None => Err(crate::error::AppError {
                    code: domain::ErrorCode::NotFound,
                    message: "no such environment".into(),
                }),
            }
        },
    );
    let follow = RwSignal::new(false);
    let fresh: RwSignal<Vec<RuntimeLogLine>> = RwSignal::new(Vec::new());
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if follow.get() {
            if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(2))
            {
                on_cleanup(move || h.clear());
            }
        }
    });
    // Each tick asks for what came after the newest line shown.
    Effect::new(move |_| {
        if tick.get() == 0 {
            return;
        }
        let Some(e) = env() else { return };
        let newest = fresh
            .with_untracked(|f| f.first().map(|l| l.id))
            .or_else(|| lines.get_untracked().and_then(|r| r.ok()).and_then(|v| v.first().map(|l| l.id)))
            .unwrap_or(0);
        let (level, logger, text, range) = filter();
        leptos::task::spawn_local(async move {
            if let Ok(mut new) = runtime_logs(e, level, logger, text, range, Some(newest)).await {
                new.reverse();
                fresh.update(|f| {
                    new.append(f);
                    *f = new;
                });
            }
        });
    });
    let csv = move || {
        let (level, logger, text, range) = filter();
        let since = crate::models::runtime_log_since(&range)
            .map(|m| (crate::models::now() - chrono::Duration::minutes(m)).to_rfc3339())
            .unwrap_or_default();
        format!(
            "/api/v1/environments/{}/logs.csv?level={}&logger={}&text={}&since={}",
            env().map(|e| e.to_string()).unwrap_or_default(),
            domain::wire::url_component(&level),
            domain::wire::url_component(&logger),
            domain::wire::url_component(&text),
            domain::wire::url_component(&since)
        )
    };
    let row = |l: &RuntimeLogLine| {
        view! {
            <tr class=format!("logline {}", level_class(&l.level))>
                <td class="log-time"><When at=l.at/></td>
                <td>{l.build_number.map(|n| view! { <a href=format!("/builds/{}", l.build_id.unwrap_or_default())>{format!("#{n}")}</a> })}</td>
                <td>{l.level.clone()}</td>
                <td class="log-source">{l.logger.clone().unwrap_or_default()}</td>
                <td class="log-msg">{l.message.clone()}</td>
            </tr>
        }
    };
    view! {
        <Title text="Runtime logs"/>
        <div class="page-head">
            <h1>"Runtime logs"</h1>
            <a href=move || format!("/environments/{}/monitoring", env().map(|e| e.to_string()).unwrap_or_default())>"Monitoring"</a>
        </div>
        <form method="get" class="row" id="log-filters">
            <select name="level" aria-label="Level">
                {move || { let cur = filter().0; [("", "All levels"), ("info", "Info and above"), ("warning", "Warnings and errors"), ("error", "Errors")]
                    .into_iter().map(|(v, t)| view! { <option value=v selected=cur == v>{t}</option> }).collect_view() }}
            </select>
            <input name="logger" placeholder="Logger (odoo.http…)" value=move || filter().1 aria-label="Logger"/>
            <input name="text" type="search" placeholder="Text" value=move || filter().2 aria-label="Text"/>
            <select name="range" aria-label="Range">
                {move || { let cur = filter().3; [("15m", "15 minutes"), ("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("all", "All kept")]
                    .into_iter().map(|(v, t)| view! { <option value=v selected=cur == v>{t}</option> }).collect_view() }}
            </select>
            <button type="submit">"Filter"</button>
            <label class="check"><input type="checkbox" id="follow" on:change=move |e| follow.set(event_target_checked(&e))/>" Follow"</label>
            <a class="button" href=csv id="export-csv">"Export CSV"</a>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lines.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() && fresh.with(Vec::is_empty) => {
                        view! { <p class="muted" id="no-lines">"No line matches: the serving Odoo printed nothing in this range, or the filters are too narrow."</p> }.into_any()
                    }
                    Ok(list) => view! {
                        <table class="table logtail" id="runtime-lines">
                            <thead><tr><th>"When"</th><th>"Build"</th><th>"Level"</th><th>"Logger"</th><th>"Message"</th></tr></thead>
                            <tbody>
                                {move || fresh.with(|f| f.iter().map(row).collect_view())}
                                {list.iter().map(row).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
