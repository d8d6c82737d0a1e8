//! A project's alerts (`/alerts/:id`, by project id): the rules (on or off, their
//! threshold, how often a lasting alert repeats), the channels notices go to
//! with a **Send test** button each, the alerts that fired and recovered,
//! and every delivery with its tries, status and error.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::monitoring::{
    get_alerts, AddAlertChannel, ChangeAlertRule, RemoveAlertChannel, TestAlertChannel,
};
use crate::models::short_time;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// What a rule watches, and what its threshold means.
pub fn rule_text(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "env_down" => ("An environment stops answering its health check", "minutes down before alerting (0: at once)"),
        "build_failed" => ("A production build fails", "unused"),
        "backup_failed" => ("A backup or a restore drill fails", "unused"),
        "db_size" => ("A database grows over a size", "megabytes"),
        "filestore_size" => ("A filestore grows over a size", "megabytes"),
        "cron_disabled" => ("A scheduled action is disabled for running too long", "unused"),
        "domain_failing" => ("A custom domain fails its verification", "unused"),
        _ => ("Other", "threshold"),
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let params = use_params_map();
    let project = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let change = ServerAction::<ChangeAlertRule>::new();
    let add = ServerAction::<AddAlertChannel>::new();
    let remove = ServerAction::<RemoveAlertChannel>::new();
    let test = ServerAction::<TestAlertChannel>::new();
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(5)) {
            on_cleanup(move || h.clear());
        }
    });
    let page = Resource::new(
        move || {
            (
                project(),
                tick.get(),
                change.version().get(),
                add.version().get(),
                remove.version().get(),
                test.version().get(),
            )
        },
        |(project, ..)| async move {
            match project {
                Some(p) => get_alerts(p).await,
                None => {
                    Err(crate::error::AppError { code: domain::ErrorCode::NotFound, message: "no such project".into() })
                }
            }
        },
    );
    view! {
        <Title text="Alerts"/>
        <h1>"Alerts"</h1>
        {move || add.value().get().and_then(Result::ok).and_then(|c| c.signing_secret).map(|s| view! {
            <p class="notice" id="signing-secret">"The webhook's signing secret (shown once; receivers check "
                <code>"webhook-signature"</code>" with it): "<code>{s}</code></p>
        })}
        <ActionError error=Signal::derive(move || add.value().with(error_message))/>
        <ActionError error=Signal::derive(move || change.value().with(error_message))/>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Some(project_id) = project() else { return view! { <p class="error">"No such project."</p> }.into_any() };
                match page.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(pg) => {
                        let manage = pg.may_manage;
                        view! {
                            <h2>"Rules"</h2>
                            <table class="table" id="alert-rules"><thead><tr><th>"When"</th><th>"On"</th><th>"Threshold"</th><th>"Repeat every (min)"</th><th></th></tr></thead><tbody>
                            {pg.rules.into_iter().map(|r| {
                                let (what, unit) = rule_text(&r.kind);
                                view! {
                                    <tr><ActionForm action=change>
                                        <input type="hidden" name="project_id" value=project_id.to_string()/>
                                        <input type="hidden" name="rule_id" value=r.id.to_string()/>
                                        <td>{what}</td>
                                        <td><input type="checkbox" name="enabled" value="on" checked=r.enabled disabled=!manage aria-label="Enabled"/></td>
                                        <td><input type="number" name="threshold" min="0" value=r.threshold disabled=!manage title=unit aria-label=unit/></td>
                                        <td><input type="number" name="repeat_minutes" min="5" max="10080" value=r.repeat_minutes disabled=!manage aria-label="Repeat every (minutes)"/></td>
                                        <td>{manage.then(|| view! { <button type="submit" class="small">"Save"</button> })}</td>
                                    </ActionForm></tr>
                                }
                            }).collect_view()}
                            </tbody></table>
                            <h2>"Channels"</h2>
                            {pg.channels.is_empty().then(|| view! { <p class="muted">"No channel: alerts mail the project's admins."</p> })}
                            <ul class="plain" id="alert-channels">
                                {pg.channels.into_iter().map(|c| view! {
                                    <li><strong>{c.name.clone()}</strong>" "<span class="muted">{c.kind.clone()}" · "{c.target.clone()}</span>
                                        {manage.then(|| view! {
                                            <ActionForm action=test attr:class="inline">
                                                <input type="hidden" name="project_id" value=project_id.to_string()/>
                                                <input type="hidden" name="channel_id" value=c.id.to_string()/>
                                                <button type="submit" class="small send-test">"Send test"</button>
                                            </ActionForm>
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="project_id" value=project_id.to_string()/>
                                                <input type="hidden" name="channel_id" value=c.id.to_string()/>
                                                <button type="submit" class="small danger">"Remove"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                            {manage.then(|| view! {
                                <ActionForm action=add attr:class="row" attr:id="add-channel">
                                    <input type="hidden" name="project_id" value=project_id.to_string()/>
                                    <select name="kind" aria-label="Kind">
                                        <option value="email">"Email"</option>
                                        <option value="webhook">"Webhook (signed JSON)"</option>
                                        <option value="slack">"Slack-compatible webhook"</option>
                                    </select>
                                    <input name="name" placeholder="Name" required/>
                                    <input name="target" placeholder="ops@example.com or https://hooks.example.com/…" required/>
                                    <button type="submit">"Add channel"</button>
                                </ActionForm>
                            })}
                            <h2>"Alerts"</h2>
                            {if pg.alerts.is_empty() { view! { <p class="muted">"Nothing has fired."</p> }.into_any() } else { view! {
                                <table class="table" id="alerts"><thead><tr><th>"Started"</th><th>"State"</th><th>"What"</th><th>"Recovered"</th></tr></thead><tbody>
                                {pg.alerts.into_iter().map(|a| view! {
                                    <tr><td><When at=a.started_at/></td>
                                        <td><span class=if a.state == "firing" { "ko" } else { "ok" }>{a.state.clone()}</span></td>
                                        <td>{a.summary.clone()}</td>
                                        <td>{a.resolved_at.map(|t| short_time(&t)).unwrap_or_default()}</td></tr>
                                }).collect_view()}
                                </tbody></table>
                            }.into_any() }}
                            <h2>"Deliveries"</h2>
                            {if pg.deliveries.is_empty() { view! { <p class="muted">"No notice sent yet."</p> }.into_any() } else { view! {
                                <table class="table" id="alert-deliveries"><thead><tr><th>"Queued"</th><th>"Notice"</th><th>"Channel"</th><th>"State"</th><th>"Tries"</th><th>"Answer"</th></tr></thead><tbody>
                                {pg.deliveries.into_iter().map(|d| view! {
                                    <tr><td><When at=d.created_at/></td><td>{d.notice.clone()}</td><td>{d.channel_kind.clone()}</td>
                                        <td>{d.state.clone()}</td><td>{d.attempts}</td>
                                        <td class="muted">{d.last_status.map(|s| s.to_string()).or(d.last_error.clone()).unwrap_or_default()}</td></tr>
                                }).collect_view()}
                                </tbody></table>
                            }.into_any() }}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
