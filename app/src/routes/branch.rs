//! A branch's page (`/environments/:id`, issue 20), as Odoo.sh users expect
//! one: the branch and its stage, its commands (Build now, Fork, Delete, the
//! last two asking first), tabs to its logs, mails, shell, backups,
//! monitoring and settings, and its **History**: the builds with their
//! commits and authors, Connect on the live ones, and what people and the
//! platform did to the branch (stage changes, restores, imports, promotions,
//! rollbacks, forks). The history re-reads itself every few seconds.

use crate::components::confirm::{Ask, ConfirmDialog};
use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::backups::environment_backups_context;
use crate::functions::builds::{branch_history, BuildNow, DeleteBranch, ForkBranch};
use crate::models::branch::{event_text, BranchTab};
use crate::models::{build_status, project_href, stage_class, tile_class};
use domain::types::{Allowed, Capability, Stage};
use domain::wire::{BackupsContext, BranchHistory};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BranchPage() -> impl IntoView {
    let params = use_params_map();
    let env = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let context = Resource::new(env, |env| async move {
        match env {
            Some(e) => environment_backups_context(e).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Transition fallback=|| view! { <Title text="Branch"/><p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match context.await {
                    Ok(Some(c)) => view! { <Branch c=c/> }.into_any(),
                    Err(e) if e.code != domain::ErrorCode::NotFound => view! { <Title text="Branch"/><p class="error">{e.message}</p> }.into_any(),
                    _ => view! { <crate::routes::not_found::NotFound/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The tabs of a branch, each a page of its own; those the caller may not use are left out.
#[component]
pub fn BranchTabs(
    env: uuid::Uuid,
    stage: Stage,
    allowed: Allowed,
    current: BranchTab,
    /// The settings' page (the project's, for its admins).
    settings_href: Option<String>,
    /// The newest live build, whose shell the Shell tab opens.
    shell_build: Option<uuid::Uuid>,
) -> impl IntoView {
    let tabs = BranchTab::ALL
        .iter()
        .filter_map(|tab| {
            let href = tab.href(env, settings_href.as_deref(), shell_build)?;
            tab.capability().is_none_or(|cap| allowed.can(stage, cap)).then_some((*tab, href))
        })
        .map(|(tab, href)| {
            let here = tab == current;
            view! {
                <a href=href class:active=here aria-current=if here { "page" } else { "false" } id=format!("tab-{}", tab.id())>
                    {tab.label()}
                </a>
            }
        })
        .collect_view();
    view! { <nav class="tabs branch-tabs" aria-label="Branch">{tabs}</nav> }
}

#[component]
fn Branch(c: BackupsContext) -> impl IntoView {
    let env = c.env.id;
    let branch = c.env.branch.clone();
    let stage = c.env.stage;
    let allowed = c.allowed;
    let project = project_href(&c.tenant_slug, &c.project_slug);
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(4)) {
            on_cleanup(move || h.clear());
        }
    });
    let build_now = ServerAction::<BuildNow>::new();
    let fork = ServerAction::<ForkBranch>::new();
    let delete = ServerAction::<DeleteBranch>::new();
    let history = Resource::new(
        move || (tick.get(), build_now.version().get(), fork.version().get()),
        move |_| branch_history(env),
    );
    // A deleted branch is gone: back to the project, whose grid no longer lists it.
    let gone_to = project.clone();
    Effect::new(move |_| {
        if let Some(Ok(_)) = delete.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(&gone_to, Default::default());
        }
    });
    let ask = RwSignal::new(None::<Ask>);
    let delete_click = {
        let branch = branch.clone();
        move |_| {
            let b = branch.clone();
            ask.set(Some(
                Ask::new(
                    format!("Delete branch {b}?"),
                    format!(
                        "The branch {b} is deleted from the repository, its running builds are killed, and its previews, databases and mail are removed. This cannot be undone."
                    ),
                    "Delete branch",
                    move || {
                        delete.dispatch(DeleteBranch { env_id: env });
                    },
                )
                .typing(b),
            ))
        }
    };
    let fork_name = RwSignal::new(String::new());
    // A fork that went through empties the field for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = fork.value().get() {
            fork_name.set(String::new());
        }
    });
    let settings_href = allowed.can(stage, Capability::ProjectSettings).then(|| format!("{project}#build-settings"));
    let may_build = allowed.can(stage, Capability::Upgrade) && crate::models::platform_environment(&branch).is_none();
    let may_delete = allowed.can(stage, Capability::BranchSettings) && stage != Stage::Production;
    view! {
        <Title text=format!("{} · {}", branch, c.project_name)/>
        <p class="crumbs" id="crumbs"><a href=project.clone()>{c.project_name.clone()}</a>" / "<code>{branch.clone()}</code></p>
        <ConfirmDialog ask=ask/>
        <div class="page-head">
            <h1 id="branch-name">{branch.clone()}</h1>
            <span class=stage_class(stage) id="branch-stage">{stage.as_str()}</span>
            {may_build.then(|| view! {
                <button type="button" class="button" id="build-now" disabled=move || build_now.pending().get()
                    on:click=move |_| { build_now.dispatch(BuildNow { env_id: env }); }>"Build now"</button>
            })}
            {may_delete.then(|| view! {
                <button type="button" class="button danger" id="delete-branch" disabled=move || delete.pending().get()
                    on:click=delete_click.clone()>"Delete"</button>
            })}
        </div>
        {move || {
            let shell = history.get().and_then(Result::ok).and_then(|h| h.builds.iter().find(|b| b.live).map(|b| b.id));
            view! { <BranchTabs env=env stage=stage allowed=allowed current=BranchTab::History settings_href=settings_href.clone() shell_build=shell/> }
        }}
        <ActionError error=Signal::derive(move || build_now.value().with(error_message))/>
        <ActionError error=Signal::derive(move || delete.value().with(error_message))/>
        {move || build_now.value().get().and_then(Result::ok).map(|said| view! { <p class="ok" role="status" id="build-now-said">{said}</p> })}
        <form class="row fork-form" id="fork-form" on:submit=move |ev| {
            ev.prevent_default();
            let name = fork_name.get_untracked().trim().to_owned();
            if !name.is_empty() {
                fork.dispatch(ForkBranch { env_id: env, branch: name });
            }
        }>
            <label for="fork-name">"Fork into a new branch"</label>
            <input id="fork-name" name="branch" required placeholder="feature/my-change" autocomplete="off"
                prop:value=move || fork_name.get() on:input=move |e| fork_name.set(event_target_value(&e))/>
            <button type="submit" class="button" id="fork-submit" disabled=move || fork.pending().get()>"Fork"</button>
        </form>
        <ActionError error=Signal::derive(move || fork.value().with(error_message))/>
        {move || fork.value().get().and_then(Result::ok).map(|said| view! { <p class="ok" role="status" id="fork-said">"Forked: "{said}</p> })}
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(h) => view! { <History h=h/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn History(h: BranchHistory) -> impl IntoView {
    let builds = if h.builds.is_empty() {
        view! { <p class="muted" id="branch-builds">"No build of this branch yet."</p> }.into_any()
    } else {
        view! {
            <table class="table" id="branch-builds">
                <thead><tr><th>"Build"</th><th>"Status"</th><th>"Commit"</th><th>"Trigger"</th><th>"When"</th><th></th></tr></thead>
                <tbody>
                    {h.builds.into_iter().map(|b| {
                        let id = b.id;
                        let sha: String = b.commit_sha.chars().take(8).collect();
                        view! {
                            <tr class="branch-build">
                                <td><a href=format!("/builds/{id}")>"#"{b.number}</a></td>
                                <td><span class=tile_class(b.state, b.result)>{build_status(b.state, b.result)}</span></td>
                                <td><code>{sha}</code>" "{b.subject.clone()}
                                    {(!b.author.is_empty()).then(|| view! { <span class="muted small">" — "{b.author.clone()}</span> })}</td>
                                <td>{b.trigger.clone()}</td>
                                <td class="small"><When at=b.created_at/></td>
                                <td>{b.live.then(|| view! {
                                    <form method="post" action=format!("/builds/{id}/connect") target="_blank" class="inline">
                                        <button type="submit" class="link connect">"Connect"</button>
                                    </form>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    let events = if h.events.is_empty() {
        view! { <p class="muted" id="branch-events">"Nothing done to this branch yet beyond its builds."</p> }
            .into_any()
    } else {
        view! {
            <ul class="events" id="branch-events">
                {h.events.into_iter().map(|e| view! {
                    <li class="branch-event">
                        <span class="muted small"><When at=e.at/></span>" "
                        <strong>{e.actor_email.clone().unwrap_or_else(|| "OdooOps".into())}</strong>" "
                        {event_text(e.action, &e.summary)}
                        {e.build.map(|(id, n)| view! { " · " <a href=format!("/builds/{id}")>"build #"{n}</a> })}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <h2>"History"</h2>
        {builds}
        <h3>"Events"</h3>
        {events}
    }
}
