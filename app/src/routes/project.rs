//! One project: its branches/environments by stage, its rules and members.

use crate::components::forms::{error_message, ActionError};
use crate::functions::projects::{get_project, AddMember};
use crate::models::{role_label, short_time, stage_class};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let add = ServerAction::<AddMember>::new();
    let detail = Resource::new(
        move || {
            (
                params.with(|p| (p.get("tenant").unwrap_or_default(), p.get("project").unwrap_or_default())),
                add.version().get(),
            )
        },
        |((tenant, project), _)| get_project(tenant, project),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading project…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <Title text="Project"/><h1>"Project"</h1><p class="error">{e.message}</p> }.into_any(),
                    Ok(d) => {
                        let project_id = d.project.id;
                        let is_admin = d.project.my_role.as_deref() == Some("admin");
                        view! {
                            <Title text=d.project.name.clone()/>
                            <div class="page-head">
                                <h1>{d.project.name.clone()}</h1>
                                <span class="muted">{d.project.tenant_slug.clone()} " / " {d.project.slug.clone()}</span>
                            </div>
                            <dl class="facts">
                                <dt>"Repository"</dt><dd><code>{d.project.repo_url.clone()}</code></dd>
                                <dt>"Odoo"</dt><dd>{d.project.odoo_version.clone()} " on " <code>{d.base_image.clone()}</code></dd>
                                <dt>"Branch rules"</dt><dd><code>{d.stage_rules.clone()}</code></dd>
                            </dl>
                            <section class="card">
                                <h2>"Branches"</h2>
                                <table class="table" id="environments">
                                    <thead><tr><th>"Branch"</th><th>"Stage"</th><th>"Since"</th></tr></thead>
                                    <tbody>
                                        {d.environments.into_iter().map(|e| view! {
                                            <tr><td><code>{e.branch}</code></td>
                                                <td><span class=stage_class(&e.stage)>{e.stage.clone()}</span></td>
                                                <td class="muted small">{short_time(&e.created_at)}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <p class="muted small">"Push a branch to this repository to build it. Branches appear here with their builds."</p>
                            </section>
                            <section class="card">
                                <h2>"Members"</h2>
                                <table class="table">
                                    <thead><tr><th>"Person"</th><th>"Role"</th></tr></thead>
                                    <tbody>
                                        {d.members.into_iter().map(|m| view! {
                                            <tr><td>{m.display_name} " " <span class="muted small">{m.email}</span></td><td>{role_label(&m.role)}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Show when=move || is_admin>
                                    <ActionForm action=add attr:class="row">
                                        <input type="hidden" name="project_id" value=project_id.to_string()/>
                                        <input type="email" name="email" placeholder="colleague@example.com" required aria-label="Email"/>
                                        <select name="role" aria-label="Role">
                                            <option value="developer">"Developer"</option>
                                            <option value="tester">"Tester"</option>
                                            <option value="admin">"Admin"</option>
                                        </select>
                                        <button type="submit">"Add member"</button>
                                    </ActionForm>
                                    <ActionError error=Signal::derive(move || add.value().with(error_message))/>
                                </Show>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
