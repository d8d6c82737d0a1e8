//! The project's Runbot-style grid, in Odoo.sh's shape: sections for
//! production, staging and development, a row per branch in an order activity
//! never changes, tiles for its newest builds that say what triggered them and
//! why one failed, and each tile's actions. Killing a build, rebuilding
//! production and moving a branch between stages ask first, saying what will
//! happen. A refresh that fails says so and keeps the rows it had: production
//! never reads "no builds yet" because the network dropped.

use crate::components::confirm::{Ask, ConfirmDialog};
use crate::components::pager::Pager;
use crate::components::project_ref::ProjectRef;
use crate::components::when::When;
use crate::functions::builds::{project_grid, BuildNow, KillBuild, RebuildBuild, ShareBuild};
use crate::functions::projects::SetBranchStage;
use crate::models::{
    backup::may_manage_backups, build_status, grid_range_text, may_read_mails, page_count, section_title, stage_class,
    tile_class, tile_title,
};
use domain::types::{Allowed, BuildState, Capability, Stage};
use domain::wire::{BuildView, EnvironmentView, GridPage};
use leptos::prelude::*;

/// What moving `branch` to `to` does, for the confirmation.
pub fn stage_change_text(branch: &str, to: Stage) -> String {
    match to {
        Stage::Staging => format!(
            "{branch} becomes a staging branch: its next build starts from a neutralised copy of production's \
             database (mail caught, crons off), and it can be promoted to production."
        ),
        _ => format!(
            "{branch} becomes a development branch: its next build starts from a fresh database with demo data; \
             the staging copy of production is not used any more."
        ),
    }
}

/// Asking before killing build `number` of `branch` (the grid's tiles and the build page).
pub fn kill_question(number: i64, branch: &str, kill: ServerAction<KillBuild>, id: uuid::Uuid) -> Ask {
    let what = format!("build #{number} of {branch}");
    Ask::new(
        format!("Kill {what}?"),
        format!(
            "{what} stops now and ends as “killed”: what it started is removed. The branch's earlier builds are \
             not touched."
        ),
        format!("Kill #{number}"),
        move || {
            kill.dispatch(KillBuild { id });
        },
    )
}

#[component]
pub fn BuildGrid(project: ProjectRef) -> impl IntoView {
    let rebuild = ServerAction::<RebuildBuild>::new();
    let kill = ServerAction::<KillBuild>::new();
    let share = ServerAction::<ShareBuild>::new();
    let stage = ServerAction::<SetBranchStage>::new();
    let build_now = ServerAction::<BuildNow>::new();
    let ask: RwSignal<Option<Ask>> = RwSignal::new(None);
    // The grid follows the builds: it refreshes every few seconds in the browser.
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(3))
        {
            on_cleanup(move || handle.clear());
        }
    });
    let dragging: RwSignal<Option<(uuid::Uuid, String, Stage)>> = RwSignal::new(None);
    // Twenty branches a page (production and staging first), each with its newest builds.
    let page = RwSignal::new(0usize);
    let builds = Resource::new(
        move || {
            (
                page.get(),
                rebuild.version().get(),
                kill.version().get(),
                stage.version().get(),
                build_now.version().get(),
                tick.get(),
            )
        },
        move |(page, ..)| async move { project_grid(project.id().await?, page as u32 + 1).await },
    );
    // The last page that arrived, shown (marked stale) when a refresh fails.
    let last_good: StoredValue<Option<GridPage>> = StoredValue::new(None);
    let move_branch = move |env: uuid::Uuid, branch: String, to: Stage| {
        ask.set(Some(Ask::new(
            format!("Move {branch} to {}?", to.as_str()),
            stage_change_text(&branch, to),
            format!("Move to {}", to.as_str()),
            move || {
                stage.dispatch(SetBranchStage { env_id: env, stage: to.as_str().to_owned() });
            },
        )));
    };
    project.gate(move |d| {
        let allowed = d.project.allowed;
        view! {
            <section class="card">
                <h2>"Branches and builds"</h2>
                <ConfirmDialog ask=ask/>
                {move || stage.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                {move || kill.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                {move || rebuild.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e.message}</p> })}
                {move || build_now.value().get().map(|r| match r {
                    Ok(what) => view! { <p class="notice" id="build-now-result">{what}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert" id="build-now-result">{e.message}</p> }.into_any(),
                })}
                {move || share.value().get().map(|r| match r {
                    Ok(url) => view! {
                        <p class="notice" id="share-link">"Share this link (valid 24 h): " <a href=url.clone() target="_blank" rel="noopener"><code class="secret">{url.clone()}</code></a></p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="muted">"Loading builds…"</p> }>
                    {move || Suspend::new(async move {
                        let (grid, failed) = match builds.await {
                            Ok(grid) => {
                                last_good.set_value(Some(grid.clone()));
                                (Some(grid), None)
                            }
                            Err(e) => (last_good.get_value(), Some(e.message)),
                        };
                        let failed = failed.map(|m| view! {
                            <p class="error" role="alert" id="grid-error">{format!("The builds could not be refreshed ({m}); ")}
                                {if grid.is_some() { "showing them as they were." } else { "nothing to show yet." }}</p>
                        });
                        let Some(grid) = grid else { return view! { {failed} }.into_any() };
                        let pages = page_count(grid.total, grid.per_page);
                        let range = grid_range_text(&grid);
                        let mut section: Option<Stage> = None;
                        view! {
                            {failed}
                            <table class="table grid" id="environments">
                                <thead><tr><th>"Branch"</th><th>"Stage"</th><th>"Builds (newest first)"</th></tr></thead>
                                <tbody>
                                    {grid.branches.into_iter().map(|row| {
                                        let e = row.environment;
                                        let heading = (section != Some(e.stage)).then(|| {
                                            section = Some(e.stage);
                                            view! { <tr class="grid-section"><th colspan="3" id=format!("section-{}", e.stage.as_str())>{section_title(e.stage)}</th></tr> }
                                        });
                                        view! { {heading} <GridRow e=e builds=row.builds allowed=allowed ask=ask dragging=dragging
                                            rebuild=rebuild kill=kill share=share build_now=build_now move_branch=Callback::new(move |(env, branch, to)| move_branch(env, branch, to))/> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {(pages > 1).then(|| view! {
                                <p class="muted small" id="grid-range">{range}</p>
                                <Pager page=page pages=Signal::derive(move || pages) id="grid-pager"/>
                            })}
                        }.into_any()
                    })}
                </Transition>
                <p class="muted small">"Push to the repository (with the webhook below) to build a branch. Development branches get a fresh database, staging a neutralised copy of production. Drag a branch onto another section's branch to change its stage."</p>
            </section>
        }
    })
}

#[component]
fn GridRow(
    e: EnvironmentView,
    builds: Vec<BuildView>,
    allowed: Allowed,
    ask: RwSignal<Option<Ask>>,
    dragging: RwSignal<Option<(uuid::Uuid, String, Stage)>>,
    rebuild: ServerAction<RebuildBuild>,
    kill: ServerAction<KillBuild>,
    share: ServerAction<ShareBuild>,
    build_now: ServerAction<BuildNow>,
    move_branch: Callback<(uuid::Uuid, String, Stage)>,
) -> impl IntoView {
    // Drag a branch onto another branch's row to give it that row's stage (as Odoo.sh).
    let movable = allowed.can_project(Capability::ProjectSettings)
        && e.stage != Stage::Production
        && crate::models::platform_environment(&e.branch).is_none();
    let (env, row_stage) = (e.id, e.stage);
    let branch = e.branch.clone();
    let drag_branch = branch.clone();
    view! {
        <tr draggable=if movable { "true" } else { "false" }
            class=if movable { "movable" } else { "" }
            on:dragstart=move |_| if movable { dragging.set(Some((env, drag_branch.clone(), row_stage))) }
            on:dragover=move |ev| if movable { ev.prevent_default() }
            on:drop=move |ev| {
                ev.prevent_default();
                if let Some((from, from_branch, from_stage)) = dragging.get_untracked() {
                    if movable && from != env && from_stage != row_stage {
                        move_branch.run((from, from_branch, row_stage));
                    }
                }
                dragging.set(None);
            }>
            <td><a class="branch-link" href=format!("/environments/{}", e.id)><code>{e.branch.clone()}</code></a>
                {crate::models::platform_environment(&e.branch).map(|what| view! { " " <span class="muted small">{what}</span> })}
                {e.address.clone().map(|url| view! {
                    " " <a class="small address-link" href=url.clone() target="_blank" rel="noopener"
                        title="The stable address: it follows this branch's newest healthy build">{url.clone()}</a>
                })}
                " " <a class="small monitor-link" href=format!("/environments/{}/monitoring", e.id)>"Monitor"</a>
                {(allowed.can(e.stage, Capability::Upgrade) && crate::models::platform_environment(&e.branch).is_none()).then(|| view! {
                    " " <button type="button" class="link small build-now" aria-label=format!("Build {} now", e.branch)
                        disabled=move || build_now.pending().get()
                        on:click=move |_| { build_now.dispatch(BuildNow { env_id: env }); }>"Build now"</button>
                })}
                {may_read_mails(&allowed, e.stage).then(|| view! {
                    " " <a class="small mails-link" href=format!("/environments/{}/mails", e.id)>"Mails"</a>
                })}
                {may_manage_backups(&allowed, e.stage).then(|| view! {
                    " " <a class="small backups-link" href=format!("/environments/{}/backups", e.id)>"Backups"</a>
                })}</td>
            <td>{
                if movable {
                    let branch = branch.clone();
                    view! {
                        <select class="stage-select" aria-label=format!("Stage of {}", e.branch)
                            on:change=move |ev| {
                                let to = if event_target_value(&ev) == "staging" { Stage::Staging } else { Stage::Development };
                                if to != row_stage {
                                    // The select shows the stored stage again until the move is confirmed.
                                    event_target::<web_sys::HtmlSelectElement>(&ev).set_value(row_stage.as_str());
                                    move_branch.run((env, branch.clone(), to));
                                }
                            }>
                            <option value="development" selected=e.stage == Stage::Development>"development"</option>
                            <option value="staging" selected=e.stage == Stage::Staging>"staging"</option>
                        </select>
                    }.into_any()
                } else {
                    view! { <span class=stage_class(e.stage)>{e.stage.as_str()}</span> }.into_any()
                }
            }</td>
            <td class="tiles">
                {if builds.is_empty() {
                    view! { <span class="muted small">"no builds yet"</span> }.into_any()
                } else {
                    builds.into_iter().map(|b| view! { <Tile b=b row_stage=row_stage allowed=allowed ask=ask rebuild=rebuild kill=kill share=share/> }).collect_view().into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn Tile(
    b: BuildView,
    row_stage: Stage,
    allowed: Allowed,
    ask: RwSignal<Option<Ask>>,
    rebuild: ServerAction<RebuildBuild>,
    kill: ServerAction<KillBuild>,
    share: ServerAction<ShareBuild>,
) -> impl IntoView {
    let finished = b.state == BuildState::Done;
    // Rebuilding is `upgrade` on the branch's stage, killing on the build's.
    let may_rebuild = allowed.can(row_stage, Capability::Upgrade);
    let may_kill = allowed.can(b.stage, Capability::Upgrade);
    let id = b.id;
    let sha: String = b.commit_sha.chars().take(8).collect();
    let what = format!("build #{} of {}", b.number, b.branch);
    let failed = b.result.is_some_and(|r| !r.succeeded());
    let reason = b.reason.clone().filter(|_| failed);
    let kill_ask = {
        let (number, branch) = (b.number, b.branch.clone());
        move |_| ask.set(Some(kill_question(number, &branch, kill, id)))
    };
    let rebuild_click = {
        let what = what.clone();
        let sha = sha.clone();
        move |_| {
            if row_stage == Stage::Production {
                ask.set(Some(Ask::new(
                    "Rebuild production?",
                    format!(
                        "A new build of commit {sha} (as {what}) is deployed over production's live database, which \
                         it updates; production serves it once it is healthy."
                    ),
                    "Rebuild production",
                    move || {
                        rebuild.dispatch(RebuildBuild { id });
                    },
                )));
            } else {
                rebuild.dispatch(RebuildBuild { id });
            }
        }
    };
    view! {
        <div class=tile_class(b.state, b.result) title=tile_title(&b) id=format!("tile-{}", b.number)>
            <div class="tile-head">"#" {b.number} " " <code>{sha}</code></div>
            <div class="small">{build_status(b.state, b.result)} " · " <When at=b.created_at/></div>
            <div class="small muted tile-trigger">{b.trigger.clone()}</div>
            {reason.map(|r| view! { <div class="small tile-reason">{r}</div> })}
            <div class="tile-actions">
                <a href=format!("/builds/{}", b.id) aria-label=format!("Logs of {what}")>"Logs"</a>
                {b.live.then(|| {
                    let shell = allowed.can(b.stage, Capability::Shell);
                    view! {
                        <form method="post" action=format!("/builds/{}/connect", b.id) target="_blank" class="inline">
                            <button type="submit" class="link connect">"Connect"</button>
                        </form>
                        {shell.then(|| view! {
                            <a href=format!("/builds/{}/shell", b.id) target="_blank" rel="noopener" class="shell-link">"Shell"</a>
                        })}
                        <button type="button" class="link" on:click=move |_| { share.dispatch(ShareBuild { id }); }>"Share"</button>
                    }
                })}
                {may_rebuild.then(|| view! {
                    <button type="button" class="link rebuild" aria-label=format!("Rebuild {what}") on:click=rebuild_click>"Rebuild"</button>
                })}
                {(!finished && may_kill).then(|| view! {
                    <button type="button" class="link danger kill" aria-label=format!("Kill {what}") on:click=kill_ask>"Kill"</button>
                })}
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_change_says_where_the_database_comes_from() {
        assert!(stage_change_text("release/2", Stage::Staging).contains("copy of production"));
        assert!(stage_change_text("feature/x", Stage::Development).contains("fresh database"));
    }
}
