//! One project: its branches/environments by stage, its rules and members.

use crate::components::forms::{error_message, ActionError};
use crate::components::project_ref::ProjectRef;
use crate::error::AppError;
use crate::functions::builds::get_webhook_settings;
use crate::functions::projects::{get_build_settings, get_project, SaveBuildSettings};
use domain::types::Capability;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.with(|p| (p.get("tenant").unwrap_or_default(), p.get("project").unwrap_or_default())),
        |(tenant, project)| get_project(tenant, project),
    );
    // The sections are created here, once, beside the header's suspense (see `ProjectRef`).
    let project = ProjectRef(detail);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) if e.code == domain::ErrorCode::NotFound => view! { <crate::routes::not_found::NotFound/> }.into_any(),
                    Err(e) => view! { <Title text="Project"/><h1>"Project"</h1><p class="error">{e.message}</p> }.into_any(),
                    Ok(d) => {
                        let project_id = d.project.id;
                        view! {
                            <Title text=d.project.name.clone()/>
                            <div class="page-head">
                                <h1>{d.project.name.clone()}</h1>
                                <span class="muted">{d.project.tenant_slug.clone()} " / " {d.project.slug.clone()}</span>
                                <a href=format!("/alerts/{project_id}") id="alerts-link">"Alerts"</a>
                            </div>
                            <dl class="facts">
                                <dt>"Repository"</dt><dd><code>{d.project.repo_url.clone()}</code></dd>
                                <dt>"Odoo"</dt><dd>{d.project.odoo_version.clone()} " on " <code>{d.base_image.clone()}</code></dd>
                                <dt>"Branch rules"</dt><dd><code>{d.stage_rules.clone()}</code></dd>
                                {d.deploy_key_public.clone().map(|k| view! {
                                    <dt>"Deploy key"</dt>
                                    <dd><code class="secret" id="deploy-key">{k}</code>
                                        <div class="muted small">"For a private repository: add it as a read-only deploy key, and use its ssh URL."</div></dd>
                                })}
                            </dl>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <super::project_grid::BuildGrid project=project/>
        <Promotions project=project/>
        <crate::components::restore_requests::RestoreRequests project=project/>
        <crate::components::upgrade_advisor::UpgradeAdvisor project=project/>
        <crate::components::supabase_panel::SupabasePanel project=project/>
        <WebhookBox project=project/>
        <BuildSettingsBox project=project/>
        <super::project_people::ProjectPeople project=project/>
    }
}

/// Whether the signed-in person administers the project (its webhook and build settings).
async fn administers(project: ProjectRef) -> Result<Option<uuid::Uuid>, AppError> {
    let d = project.detail().await?;
    Ok(d.project.allowed.can_project(Capability::ProjectSettings).then_some(d.project.id))
}

/// Where to point GitHub's webhook (project admins).
#[component]
fn WebhookBox(project: ProjectRef) -> impl IntoView {
    let settings = Resource::new(
        || (),
        move |_| async move {
            match administers(project).await? {
                Some(id) => get_webhook_settings(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    project.gate(move |d| d.project.allowed.can_project(Capability::ProjectSettings).then(|| view! {
        <section class="card">
            <h2>"GitHub webhook"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(None) => ().into_any(),
                        Ok(Some(s)) => view! {
                            <p class="muted small">"In GitHub: Settings → Webhooks → Add webhook, content type application/json, events: pushes and pull requests."</p>
                            <dl class="facts">
                                <dt>"Payload URL"</dt><dd><code id="webhook-url">{s.url}</code></dd>
                                <dt>"Secret"</dt><dd><code class="secret" id="webhook-secret">{s.secret}</code></dd>
                            </dl>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }))
}

/// Build settings (project admins): polling, fork PRs, public previews, lifetimes.
#[component]
fn BuildSettingsBox(project: ProjectRef) -> impl IntoView {
    let save = ServerAction::<SaveBuildSettings>::new();
    let settings = Resource::new(
        move || save.version().get(),
        move |_| async move {
            match administers(project).await? {
                Some(id) => get_build_settings(id).await.map(|s| Some((id, s))),
                None => Ok(None),
            }
        },
    );
    project.gate(move |d| d.project.allowed.can_project(Capability::ProjectSettings).then(|| view! {
        <section class="card">
            <h2>"Build settings"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some((project_id, s))) => view! {
                            <ActionForm action=save attr:class="stack narrow-form" attr:id="build-settings">
                                <input type="hidden" name="project_id" value=project_id.to_string()/>
                                <label>"Check the repository every (minutes, 0 = only webhooks)"
                                    <input type="number" name="poll_minutes" min="0" max="1440" value=s.poll_minutes.unwrap_or(0)/>
                                </label>
                                <label>"Development builds kept live per branch"
                                    <input type="number" name="keep_dev_builds" min="1" max="50" value=s.keep_dev_builds.unwrap_or(3)/>
                                </label>
                                <label>"Stop idle development previews after (hours)"
                                    <input type="number" name="dev_idle_hours" min="1" max="720" value=s.dev_idle_hours.unwrap_or(72)/>
                                </label>
                                <label>"Close shells after (minutes, 15–30)"
                                    <input type="number" name="shell_ttl_minutes" min="15" max="30" value=s.shell_ttl_minutes.unwrap_or(15)/>
                                </label>
                                <label>"Production's outgoing mail relay (host:port; development and staging mail is always caught)"
                                    <input type="text" name="smtp_relay" placeholder="smtp.example.com:587" value=s.smtp_relay.clone().unwrap_or_default()/>
                                </label>
                                <label>"Stop a scheduled action running longer than (seconds; the third stop in a day disables it)"
                                    <input type="number" name="cron_limit_seconds" min="5" max="86400" value=s.cron_limit_seconds.unwrap_or(900)/>
                                </label>
                                <label>"Keep the serving Odoo's log lines (days)"
                                    <input type="number" name="log_retention_days" min="1" max="365" value=s.log_retention_days.unwrap_or(14)/>
                                </label>
                                <label class="check"><input type="checkbox" name="production_requires_approval" value="on" checked=s.production_requires_approval.unwrap_or(false)/>
                                    " Production changes only through approved promotions (pushes build a candidate; restores wait for a second person)"</label>
                                <label class="check"><input type="checkbox" name="allow_fork_builds" value="on" checked=s.allow_fork_builds.unwrap_or(false)/>
                                    " Build pull requests from forks"</label>
                                <label class="check"><input type="checkbox" name="public_previews" value="on" checked=s.public_previews.unwrap_or(false)/>
                                    " Development previews open without a share link"</label>
                                <label class="check"><input type="checkbox" name="private_production" value="on" checked=s.private_production.unwrap_or(false)/>
                                    " Keep production's address private (it opens only with a share link)"</label>
                                <ActionError error=Signal::derive(move || save.value().with(error_message))/>
                                <button type="submit">"Save settings"</button>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }))
}

/// Promotions of this project: the one waiting for approval, with Approve and
/// Reject for those with release rights, and the history.
#[component]
fn Promotions(project: ProjectRef) -> impl IntoView {
    use crate::functions::promotions::{list_promotions, ApprovePromotion, RejectPromotion};
    use crate::models::promotion::{approvals_text, asked_by, state_label};
    let approve = ServerAction::<ApprovePromotion>::new();
    let reject = ServerAction::<RejectPromotion>::new();
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(3)) {
            on_cleanup(move || h.clear());
        }
    });
    let list = Resource::new(
        move || (tick.get(), approve.version().get(), reject.version().get()),
        move |_| async move { list_promotions(project.id().await?).await },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = list.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card" id="promotions">
                        <h2>"Promotions"</h2>
                        <table class="table">
                            <thead><tr><th>"Build"</th><th>"Asked by"</th><th>"Approvals"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|pr| {
                                let id = pr.id.to_string();
                                let id2 = id.clone();
                                view! {
                                    <tr class=format!("promotion promotion-{}", pr.state)>
                                        <td><a href=format!("/builds/{}", pr.source_build)>"#"{pr.source_number}</a> " " <code>{pr.commit_sha[..12].to_owned()}</code></td>
                                        <td>{asked_by(&pr)}</td>
                                        <td class="small">{approvals_text(&pr)}</td>
                                        <td>{state_label(&pr.state)}
                                            {pr.deploy_build.map(|b| view! { " " <a class="small" href=format!("/builds/{b}")>"deployment"</a> })}
                                            {pr.rollback_build.map(|b| view! { " " <a class="small" href=format!("/builds/{b}")>"rollback"</a> })}
                                            {pr.reason.clone().map(|r| view! { <div class="muted small">{r}</div> })}</td>
                                        <td>{pr.may_withdraw.then(|| {
                                            let id = pr.id.to_string();
                                            view! {
                                                <ActionForm action=reject attr:class="inline">
                                                    <input type="hidden" name="promotion_id" value=id/>
                                                    <button type="submit" class="link danger withdraw-promotion">"Withdraw"</button>
                                                </ActionForm>
                                            }
                                        })}
                                        {pr.may_approve.then(|| view! {
                                            <ActionForm action=approve attr:class="inline">
                                                <input type="hidden" name="promotion_id" value=id/>
                                                <button type="submit" class="primary approve-promotion">"Approve"</button>
                                            </ActionForm>
                                            <ActionForm action=reject attr:class="inline">
                                                <input type="hidden" name="promotion_id" value=id2/>
                                                <button type="submit" class="link danger">"Reject"</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                        {move || approve.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                        {move || reject.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                    </section>
                })
            })}
        </Transition>
    }
}
