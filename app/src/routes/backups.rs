//! The Backups tab of an environment (`/environments/:id/backups`): its
//! backups with date, kind, size, status and the drill's verified mark; take
//! one now; download with or without filestore; restore (production behind
//! typing the project's name); import an archive from elsewhere; and the
//! project's schedule and retention. Running backups show their progress.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::backups::{
    environment_backups_context, get_backup_settings, list_backups, CreateBackup, RestoreBackup, SaveBackupSettings,
};
use crate::models::backup::{
    any_in_progress, danger_text, kind_label, may_import, may_manage_backups, needs_confirmation, status_text,
};
use crate::models::{human_bytes, project_href, short_time, stage_class};
use domain::types::{Capability, Stage};
use domain::wire::{BackupView, BackupsContext};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn BackupsPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let env = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let context = Resource::new(env, |env| async move {
        match env {
            Some(e) => environment_backups_context(e).await,
            None => {
                Err(crate::error::AppError { code: domain::ErrorCode::NotFound, message: "no such environment".into() })
            }
        }
    });
    view! {
        <Title text="Backups"/>
        {move || query.with(|q| q.get("error")).map(|e| view! {
            <p class="error" role="alert" id="backup-error">{crate::models::backup::import_error_text(&e)}</p>
        })}
        {move || query.with(|q| q.get("restoring")).map(|b| view! {
            <p class="notice" id="restore-queued">"The archive was accepted; "
                <a href=format!("/builds/{b}")>"its restore build"</a>" is running."</p>
        })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match context.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(ctx) => view! { <Backups ctx=ctx/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Backups(ctx: BackupsContext) -> impl IntoView {
    let env = ctx.env.id;
    let ctx = StoredValue::new(ctx);
    let create = ServerAction::<CreateBackup>::new();
    let restore = ServerAction::<RestoreBackup>::new();
    let tick = RwSignal::new(0u64);
    let busy = RwSignal::new(false);
    Effect::new(move |_| {
        let every = if busy.get() { 2 } else { 10 };
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(every))
        {
            on_cleanup(move || h.clear());
        }
    });
    let list = Resource::new(
        move || (tick.get(), create.version().get(), restore.version().get()),
        move |_| async move { list_backups(env).await },
    );
    let (stage, branch) = ctx.with_value(|c| (c.env.stage, c.env.branch.clone()));
    let manage = ctx.with_value(|c| may_manage_backups(&c.allowed, c.env.stage));
    let admin = ctx.with_value(|c| c.allowed.can_project(Capability::ProjectSettings));
    let back = ctx.with_value(|c| project_href(&c.tenant_slug, &c.project_slug));
    view! {
        <div class="page-head">
            <h1>"Backups"</h1>
            <span><code>{branch}</code>" "<span class=stage_class(stage)>{stage.as_str()}</span></span>
            <a class="small" href=back>"← project"</a>
        </div>
        <p class="muted small">"Odoo's own backup format (dump.sql, filestore, manifest.json), checksummed. Production is backed up on the project's schedule and before every update or restore; retention keeps the newest of each recent day, week and month."</p>
        {(manage && stage != Stage::Development).then(|| view! {
            <ActionForm action=create attr:class="inline">
                <input type="hidden" name="env_id" value=env.to_string()/>
                <button type="submit" id="backup-now">"Back up now"</button>
            </ActionForm>
        })}
        <ActionError error=Signal::derive(move || create.value().with(error_message))/>
        <ActionError error=Signal::derive(move || restore.value().with(error_message))/>
        {move || restore.value().get().and_then(|r| r.ok()).map(|q| match q.build_id {
            Some(b) => view! {
                <p class="notice" id="restore-started">"Restoring: "<a href=format!("/builds/{b}")>"follow the restore build"</a></p>
            }.into_any(),
            None => view! {
                <p class="notice" id="restore-waiting">"Production restores need a second person here: the request waits on the project page until someone with release rights approves it."</p>
            }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) => {
                        busy.set(any_in_progress(&list));
                        if list.is_empty() {
                            view! { <p class="muted" id="backup-list">"No backups yet."</p> }.into_any()
                        } else {
                            view! { <BackupTable list=list ctx=ctx restore=restore/> }.into_any()
                        }
                    }
                }
            })}
        </Transition>
        {may_import(stage).then(|| view! {
            <section class="card">
                <h2>"Import"</h2>
                <p class="muted small">"An Odoo backup zip (from Odoo's database manager or Odoo.sh) or a pg_dump custom-format dump. It is checked, stored as a backup of this branch, and restored here, neutralized."</p>
                <form method="post" enctype="multipart/form-data" action=format!("/api/v1/environments/{env}/imports") id="import-form">
                    <input type="file" name="file" accept=".zip,.dump" required/>
                    <button type="submit">"Import and restore"</button>
                </form>
            </section>
        })}
        {admin.then(|| view! { <RetentionBox project=ctx.with_value(|c| c.project_id)/> })}
    }
}

#[component]
fn BackupTable(
    list: Vec<BackupView>,
    ctx: StoredValue<BackupsContext>,
    restore: ServerAction<RestoreBackup>,
) -> impl IntoView {
    let open: RwSignal<Option<uuid::Uuid>> = RwSignal::new(None);
    view! {
        <table class="table" id="backup-list">
            <thead><tr><th>"Date"</th><th>"Kind"</th><th>"Size"</th><th>"Status"</th><th>"Verified"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|b| {
                    let id = b.id;
                    let done = b.state == "done";
                    let zip = b.format == "zip";
                    view! {
                        <tr class=format!("backup backup-{}", b.state)>
                            <td><When at=b.created_at/></td>
                            <td>{kind_label(&b.kind)}</td>
                            <td>{b.size_bytes.map(human_bytes).unwrap_or_default()}</td>
                            <td title=b.error.clone().unwrap_or_default()>{status_text(&b)}
                                {b.error.clone().map(|e| view! { <div class="error small">{e}</div> })}</td>
                            <td>{b.verified_at.map(|t| view! { <span class="ok" title=format!("restore drill passed {}", short_time(&t))>"✓"</span> })}</td>
                            <td class="actions">
                                {done.then(|| view! {
                                    <a href=format!("/api/v1/backups/{id}/download") download="">"Download"</a>
                                    {zip.then(|| view! { " · " <a href=format!("/api/v1/backups/{id}/download?filestore=false") download="">"without filestore"</a> })}
                                    " · " <a href=format!("/api/v1/backups/{id}/download?neutralized=true") download="" title="Restored, neutralized and zipped again: safe outside production">"neutralized"</a>
                                    " · "
                                    <button class="link restore-open" on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>"Restore…"</button>
                                })}
                            </td>
                        </tr>
                        {move || (open.get() == Some(id)).then(|| view! {
                            <tr><td colspan="6"><RestoreForm backup=id ctx=ctx restore=restore/></td></tr>
                        })}
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn RestoreForm(
    backup: uuid::Uuid,
    ctx: StoredValue<BackupsContext>,
    restore: ServerAction<RestoreBackup>,
) -> impl IntoView {
    let targets = ctx.with_value(|c| c.targets.clone());
    // Nothing is chosen for the person: a restore replaces a database, production's among them.
    let target = RwSignal::new(String::new());
    let target_stage = RwSignal::new(None::<Stage>);
    let stages: Vec<(String, Stage)> = targets.iter().map(|t| (t.id.to_string(), t.stage)).collect();
    let name = ctx.with_value(|c| c.project_name.clone());
    view! {
        <ActionForm action=restore attr:class="restore-form">
            <input type="hidden" name="backup_id" value=backup.to_string()/>
            <label>"Restore into "
                <select name="target_env" id="restore-target" on:change=move |e| {
                    let v = event_target_value(&e);
                    target_stage.set(stages.iter().find(|(id, _)| *id == v).map(|s| s.1));
                    target.set(v);
                }>
                    <option value="" selected=true disabled=true>"Choose a branch…"</option>
                    {targets.into_iter().map(|t| view! {
                        <option value=t.id.to_string()>{format!("{} ({})", t.branch, t.stage)}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || target_stage.get().is_some_and(needs_confirmation).then(|| view! {
                <div class="danger-box" role="alert">
                    <p>{danger_text(&name)}</p>
                    <input type="text" name="confirm" id="restore-confirm" autocomplete="off" placeholder=name.clone()/>
                </div>
            })}
            <button type="submit" id="restore-submit" disabled=move || target.with(String::is_empty)
                class=move || if target_stage.get().is_some_and(needs_confirmation) { "danger" } else { "" }>"Restore"</button>
            // The refusal stays beside the form that caused it, with what was typed kept.
            <ActionError error=Signal::derive(move || restore.value().with(error_message))/>
        </ActionForm>
    }
}

#[component]
fn RetentionBox(project: uuid::Uuid) -> impl IntoView {
    let save = ServerAction::<SaveBackupSettings>::new();
    let settings =
        Resource::new(move || save.version().get(), move |_| async move { get_backup_settings(project).await });
    view! {
        <section class="card">
            <h2>"Schedule and retention"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(s) => view! {
                            <ActionForm action=save attr:class="stack" attr:id="retention-form">
                                <input type="hidden" name="project_id" value=project.to_string()/>
                                <label>"Production backups (cron, UTC) "<input name="backup_cron" value=s.backup_cron.clone().unwrap_or_default()/></label>
                                <label>"Restore drill (cron, UTC) "<input name="drill_cron" value=s.drill_cron.clone().unwrap_or_default()/></label>
                                <label>"Daily kept "<input type="number" min="1" max="366" name="keep_daily" value=s.keep_daily.unwrap_or(7)/></label>
                                <label>"Weekly kept "<input type="number" min="0" max="520" name="keep_weekly" value=s.keep_weekly.unwrap_or(4)/></label>
                                <label>"Monthly kept "<input type="number" min="0" max="240" name="keep_monthly" value=s.keep_monthly.unwrap_or(3)/></label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            <p class="muted small">
                                {s.next_backup_at.map(|t| format!("Next production backup: {}. ", short_time(&t)))}
                                {match (s.last_drill.as_deref(), s.last_drill_passed_at) {
                                    (Some("failed"), _) => "The last restore drill FAILED.".to_owned(),
                                    (_, Some(t)) => format!("Last restore drill passed {}.", short_time(&t)),
                                    _ => "No restore drill yet.".to_owned(),
                                }}
                            </p>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionError error=Signal::derive(move || save.value().with(error_message))/>
        </section>
    }
}
