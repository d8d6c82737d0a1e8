//! One build: what it is, its preflight gates, its phase timeline, its preview, its live log, and
//! its database in the kit's local mode (also opened by `?kit=<tab>`).

use crate::components::confirm::{Ask, ConfirmDialog};
use crate::components::kit::KitDialog;
use crate::components::log_tail::LogTail;
use crate::components::preflight::PreflightCard;
use crate::components::when::When;
use crate::functions::builds::get_build;
use crate::functions::builds::KillBuild;
use crate::functions::promotions::{RequestPromotion, RollbackProduction};
use crate::functions::shells::{list_shells, ssh_command};
use crate::models::kit::KitTarget;
use crate::models::promotion::{may_request_promotion, may_roll_back_to};
use crate::models::{build_status, duration_text, human_bytes, phase_timeline, project_href, stage_class, tile_class};
use domain::types::{BuildState, Capability};
use domain::wire::{BuildDetail, RunEventView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn BuildPage() -> impl IntoView {
    let params = use_params_map();
    let asked = use_query_map().with_untracked(|q| q.get("kit"));
    // Opened by `?kit=` in the browser only (see the Supabase panel).
    let kit_open = RwSignal::new(false);
    let wanted = asked.is_some();
    Effect::new(move |_| {
        if wanted {
            kit_open.set(true)
        }
    });
    let kit_tab = RwSignal::new(KitTarget::Local(uuid::Uuid::nil()).tab(asked.as_deref().unwrap_or_default()));
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let build = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_build(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Transition fallback=|| view! { <Title text="Build"/><p class="muted">"Loading build…"</p> }>
            {move || Suspend::new(async move {
                match build.await {
                    Err(e) if e.code != domain::ErrorCode::NotFound => view! { <Title text="Build"/><h1>"Build"</h1><p class="error">{e.message}</p> }.into_any(),
                    Err(_) | Ok(None) => view! { <crate::routes::not_found::NotFound/> }.into_any(),
                    Ok(Some(detail)) => view! { <BuildBody detail=detail kit_open=kit_open kit_tab=kit_tab/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Whether the log says the build has finished (its state follows a moment later).
pub fn log_says_finished(events: &[RunEventView]) -> bool {
    events.iter().rev().take(8).any(|e| e.source == "build" && e.message.starts_with("finished:"))
}

/// The build as it is now: while it runs, its state is read again every two seconds and at once
/// when its log says it finished, so the header, the result, the timeline and the actions follow
/// without a reload.
#[component]
fn BuildBody(detail: BuildDetail, kit_open: RwSignal<bool>, kit_tab: RwSignal<&'static str>) -> impl IntoView {
    let BuildDetail { build: first, allowed, release_path, tenant_slug, project_slug, project_name, promoted_from } =
        detail;
    let b = first.clone();
    let id = b.id;
    let cur = RwSignal::new(first);
    let events: RwSignal<Vec<RunEventView>> = RwSignal::new(Vec::new());
    let refresh = RwSignal::new(0u64);
    Effect::new(move |_| {
        let again = move || {
            if cur.with_untracked(|b| b.state != BuildState::Done) {
                refresh.update(|t| *t += 1)
            }
        };
        if let Ok(h) = set_interval_with_handle(again, std::time::Duration::from_secs(2)) {
            on_cleanup(move || h.clear());
        }
    });
    let log_finished = Memo::new(move |_| events.with(|e| log_says_finished(e)));
    Effect::new(move |_| {
        if log_finished.get() {
            refresh.update(|t| *t += 1)
        }
    });
    Effect::new(move |prev: Option<()>| {
        refresh.track();
        if prev.is_some() {
            leptos::task::spawn_local(async move {
                if let Ok(d) = get_build(id).await {
                    cur.set(d.build);
                }
            });
        }
    });
    let finished = Memo::new(move |_| cur.with(|b| b.state == BuildState::Done));
    let timeline = Memo::new(move |_| events.with(|e| phase_timeline(e, finished.get())));
    let live = Memo::new(move |_| cur.with(|b| b.live));
    let promote =
        Memo::new(move |_| cur.with(may_request_promotion) && allowed.can_project(Capability::RequestPromotion));
    let roll_back = Memo::new(move |_| cur.with(may_roll_back_to) && allowed.can_project(Capability::Promote));
    let may_kill = allowed.can(b.stage, Capability::Upgrade);
    let ask: RwSignal<Option<Ask>> = RwSignal::new(None);
    let kill = ServerAction::<KillBuild>::new();
    Effect::new(move |_| {
        if kill.version().get() > 0 {
            refresh.update(|t| *t += 1)
        }
    });
    let kill_click = {
        let (number, branch) = (b.number, b.branch.clone());
        move |_| ask.set(Some(crate::routes::project_grid::kill_question(number, &branch, kill, id)))
    };
    // The database, in the kit's local mode: for those with the tools of its stage; writes
    // never on production (the server decides again).
    let database = b.db_name.is_some() && allowed.can(b.stage, Capability::Shell);
    let db_writes = database && b.stage != domain::types::Stage::Production;
    let project = project_href(&tenant_slug, &project_slug);
    view! {
        <Title text=format!("Build #{} · {} · {}", b.number, b.branch, project_name)/>
        <p class="crumbs" id="crumbs"><a href=project>{project_name.clone()}</a>" / "<a href=format!("/environments/{}", b.env_id)><code>{b.branch.clone()}</code></a>" / build #"{b.number}</p>
        <ConfirmDialog ask=ask/>
        <div class="page-head">
            <h1>"Build #" {b.number}</h1>
            <span class=stage_class(b.stage)>{b.stage.as_str()}</span>
            {move || cur.with(|b| view! { <span class=tile_class(b.state, b.result) id="build-status">{build_status(b.state, b.result)}</span> })}
            {move || live.get().then(|| view! {
                // A POST: opening a preview mints a link and audits it, which no GET may do.
                <form method="post" action=format!("/builds/{id}/connect") target="_blank" class="inline">
                    <button type="submit" class="button primary" id="connect">"Connect"</button>
                </form>
                {allowed.can(b.stage, Capability::Shell).then(|| view! {
                    <a class="button" id="open-shell" href=format!("/builds/{id}/shell") target="_blank" rel="noopener">"Shell"</a>
                })}
            })}
            {database.then(|| view! {
                <button type="button" class="button" id="open-kit" on:click=move |_| kit_open.set(true)>"Database"</button>
            })}
            // Odoo.sh's "Download dump", for development and staging (production: its backups).
            {move || (db_writes && finished.get()).then(|| view! {
                <a class="button" id="download-dump" href=format!("/api/v1/builds/{id}/dump") download="">"Download dump"</a>
            })}
            {move || (may_kill && !finished.get()).then(|| view! {
                <button type="button" class="button danger" id="kill-build" on:click=kill_click.clone()>"Kill"</button>
            })}
        </div>
        {move || kill.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
        <dl class="facts">
            <dt>"Branch"</dt><dd><code>{b.branch.clone()}</code></dd>
            <dt>"Commit"</dt><dd><code class="wrap">{b.commit_sha.clone()}</code> " " {b.subject.clone()} <span class="muted">" by " {b.author.clone()}</span></dd>
            <dt>"Queued"</dt><dd><When at=b.created_at/> " (" {b.trigger.clone()} ")"</dd>
            {promoted_from.map(|(from, n)| view! {
                <dt>"Promoted from"</dt><dd id="promoted-from"><a href=format!("/builds/{from}")>"staging build #"{n}</a></dd>
            })}
            {move || cur.with(|b| b.started_at.map(|s| {
                let took = b.finished_at.map(|f| format!(" · took {}", duration_text((f - s).num_seconds()))).unwrap_or_default();
                view! { <dt>"Started"</dt><dd id="build-times"><When at=s/>{took}</dd> }
            }))}
            {b.image_digest.clone().map(|d| view! { <dt>"Image"</dt><dd><code class="wrap" id="image-digest">{d}</code></dd> })}
            {b.db_name.clone().map(|d| view! { <dt>"Database"</dt><dd><code>{d}</code></dd> })}
            <SshCommand build_id=id/>
            {move || cur.with(|b| b.reason.clone()).map(|r| view! { <dt>"Reason"</dt><dd id="build-reason">{r}</dd> })}
        </dl>
        {release_path.map(|t| view! { <p class="notice" id="release-path">{t}</p> })}
        {move || {
            let (promote, roll_back) = (promote.get(), roll_back.get());
            view! { <ReleaseActions promote=promote roll_back=roll_back build_id=id env_id=b.env_id number=b.number branch=b.branch.clone()/> }
        }}
        <PreflightCard results=b.preflight.clone() project_id=b.project_id
            project_admin=allowed.can_project(Capability::ProjectSettings)/>
        <section class="card">
            <h2>"Phases"</h2>
            <ol class="phases" id="phases">
                {move || timeline.get().into_iter().map(|r| view! {
                    <li class=format!("phase phase-{}", r.status)>
                        <span>{r.phase.clone()}</span>
                        <span class="muted small">{r.duration_ms.map(|ms| format!("{:.1} s", ms as f64 / 1000.0)).unwrap_or_else(|| r.status.clone())}</span>
                    </li>
                }).collect_view()}
            </ol>
        </section>
        <section class="card">
            <h2>"Log"</h2>
            <LogTail build_id=id events=events done=Signal::derive(move || finished.get())/>
        </section>
        <ShellSessions build_id=id/>
        {database.then(|| view! { <KitDialog target=KitTarget::Local(id) writes=db_writes open=kit_open tab=kit_tab/> })}
    }
}

/// Promote a staging build, or roll production back to an earlier one.
#[component]
fn ReleaseActions(
    promote: bool,
    roll_back: bool,
    build_id: uuid::Uuid,
    env_id: uuid::Uuid,
    /// The build's number and branch, for the rollback's confirmation.
    number: i64,
    branch: String,
) -> impl IntoView {
    let request = ServerAction::<RequestPromotion>::new();
    let rollback = ServerAction::<RollbackProduction>::new();
    let restore = RwSignal::new(String::new());
    let ask: RwSignal<Option<Ask>> = RwSignal::new(None);
    // Rolling back asks first; restoring a backup as well replaces production's data, so the
    // production branch's name is typed before it runs.
    let roll_back_click = move |_| {
        let backup = restore.get_untracked();
        let run = move || {
            rollback.dispatch(RollbackProduction { build_id, restore_backup: backup.clone() });
        };
        ask.set(Some(if restore.get_untracked().is_empty() {
            Ask::new(
                "Roll production back?",
                format!(
                    "Production is redeployed with build #{number}'s image on its database as it is now; \
                     the build serving now stops serving."
                ),
                "Roll back",
                run,
            )
        } else {
            Ask::new(
                "Roll production back and restore its database?",
                format!(
                    "Production is redeployed with build #{number}'s image and its database is replaced by the \
                     chosen backup: whatever production wrote since that backup is lost."
                ),
                "Roll back and restore",
                run,
            )
            .typing(branch.clone())
        }));
    };
    // Production's backups, to restore with the rollback (project admins see them).
    let backups = Resource::new(
        move || roll_back,
        move |wanted| async move {
            if wanted {
                crate::functions::backups::list_backups(env_id).await.unwrap_or_default()
            } else {
                Vec::new()
            }
        },
    );
    view! {
        {promote.then(|| view! {
            <ActionForm action=request attr:class="inline">
                <input type="hidden" name="build_id" value=build_id.to_string()/>
                <button type="submit" id="request-promotion">"Request promotion to production"</button>
            </ActionForm>
        })}
        {move || match request.value().get() {
            Some(Ok(_)) => Some(view! { <p class="notice" id="promotion-requested">"Promotion requested: it waits for another person's approval on the project page."</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.message}</p> }.into_any()),
            None => None,
        }}
        <ConfirmDialog ask=ask/>
        {roll_back.then(|| view! {
            <div class="inline">
                <label>"Database "
                    <Transition fallback=|| view! { <input type="hidden" name="restore_backup" value=""/> }>
                        {move || Suspend::new(async move {
                            let list = backups.await;
                            view! {
                                <select name="restore_backup" id="rollback-database" on:change=move |e| restore.set(event_target_value(&e))>
                                    <option value="">"keep production's database"</option>
                                    {list.into_iter().filter(|b| b.state == "done").map(|b| view! {
                                        <option value=b.id.to_string()>{format!("restore the {} backup of {}", crate::models::backup::kind_label(&b.kind), crate::models::short_time(&b.created_at))}</option>
                                    }).collect_view()}
                                </select>
                            }
                        })}
                    </Transition>
                </label>
                <button type="button" class="danger" id="roll-back" on:click=roll_back_click.clone()>"Roll production back to this build"</button>
            </div>
        })}
        {move || match rollback.value().get() {
            Some(Ok(b)) => Some(view! { <p class="notice">"Rollback queued: "<a href=format!("/builds/{b}")>"follow it"</a></p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.message}</p> }.into_any()),
            None => None,
        }}
    }
}

/// Shell sessions on this build (the caller's own; all of them for project admins).
#[component]
fn ShellSessions(build_id: uuid::Uuid) -> impl IntoView {
    let sessions = Resource::new(|| (), move |_| list_shells(build_id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = sessions.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card">
                        <h2>"Shell sessions"</h2>
                        <table class="table" id="shell-sessions">
                            <thead><tr><th>"Opened"</th><th>"Who"</th><th>"Via"</th><th>"Ended"</th><th>"Traffic"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| view! {
                                <tr>
                                    <td class="small"><When at=s.opened_at/></td>
                                    <td>{s.user_email}</td>
                                    <td>{s.via}</td>
                                    <td class="small">{s.close_reason.unwrap_or_else(|| "open".into())}</td>
                                    <td class="small">{human_bytes(s.bytes_in + s.bytes_out)}</td>
                                    <td><a href=format!("/shells/{}", s.id)>"Transcript"</a></td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                })
            })}
        </Transition>
    }
}

/// `ssh <build>@host -p <port>`, when the build is live and the gateway runs.
#[component]
fn SshCommand(build_id: uuid::Uuid) -> impl IntoView {
    let command = Resource::new(|| (), move |_| ssh_command(build_id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                command.await.ok().flatten().map(|c| view! {
                    <dt>"SSH"</dt><dd><code id="ssh-command">{c}</code>
                        <span class="muted small">" (add your public key under " <a href="/settings#ssh-keys">"Settings"</a> ")"</span></dd>
                })
            })}
        </Transition>
    }
}
