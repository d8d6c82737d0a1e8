//! The projects list and the create-project form.

use crate::components::forms::{error_message, ActionError};
use crate::components::when::When;
use crate::functions::projects::{list_projects, CreateProject};
use crate::models::{project_href, role_label, DEFAULT_STAGE_RULES};
use crate::MeResource;
use domain::types::OdooVersion;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let projects = Resource::new(move || create.version().get(), |_| list_projects());
    view! {
        <Title text="Projects"/>
        <div class="page-head">
            <h1>"Projects"</h1>
        </div>
        <div class="grid-2">
            <section>
                <Transition fallback=|| view! { <p class="muted">"Loading projects…"</p> }>
                    {move || Suspend::new(async move {
                        match projects.await {
                            Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <div class="empty" id="no-projects">
                                    <h2>"No projects yet"</h2>
                                    <p>"Fill in the form to connect a repository. Its production branch gets an environment at once; other branches appear when they are pushed."</p>
                                </div>
                            }.into_any(),
                            Ok(list) => view! {
                                <table class="table" id="projects">
                                    <thead><tr><th>"Project"</th><th>"Tenant"</th><th>"Odoo"</th><th>"Production"</th><th>"Your role"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|p| view! {
                                            <tr>
                                                <td><a href=project_href(&p.tenant_slug, &p.slug)>{p.name.clone()}</a>
                                                    <div class="muted small">{p.repo_url.clone()}</div></td>
                                                <td>{p.tenant_slug.clone()}</td>
                                                <td>{p.odoo_version.clone()}</td>
                                                <td><code>{p.production_branch.clone()}</code></td>
                                                <td>{role_label(p.my_role.as_deref().unwrap_or(""))}</td>
                                                <td class="muted small"><When at=p.created_at/></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <section class="card">
                <h2>"New project"</h2>
                <ActionForm action=create attr:class="stack" attr:id="create-project">
                    <label>"Name" <input type="text" name="name" required maxlength="80" placeholder="Acme ERP"/></label>
                    <label>"Git URL" <input type="text" name="repo_url" required placeholder="git@github.com:acme/addons.git"/></label>
                    <label>"Odoo version"
                        <select name="odoo_version">
                            {OdooVersion::SUPPORTED.iter().map(|v| view! { <option value=*v selected=*v == "18.0">{*v}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Base image"
                        <select name="base_image">
                            <option value="">"Official odoo:<version> (load it into Docker first)"</option>
                            <option value=domain::wire::STANDIN_IMAGE>"OdooOps stand-in (demos and tests)"</option>
                        </select>
                    </label>
                    <TenantField/>
                    <label>"Branch rules" <small class="muted">" (pattern=stage, first match wins; the rest is development)"</small>
                        <input type="text" name="stage_rules" value=DEFAULT_STAGE_RULES/>
                    </label>
                    <label class="check"><input type="checkbox" name="production_requires_approval" value="on" checked/>
                        " Production changes only through approved promotions (a push to production builds a candidate that waits for a second person)"</label>
                    <ActionError error=Signal::derive(move || create.value().with(error_message))/>
                    <button type="submit" class="primary">"Create project"</button>
                </ActionForm>
            </section>
        </div>
    }
}

/// A tenant picker, shown only when the user administers several tenants.
#[component]
fn TenantField() -> impl IntoView {
    let me = expect_context::<MeResource>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let tenants: Vec<_> = me.await.ok().flatten().map(|m| m.tenants).unwrap_or_default()
                    .into_iter().filter(|t| t.role.as_deref() == Some("tenant_admin")).collect();
                (tenants.len() > 1).then(|| view! {
                    <label>"Tenant"
                        <select name="tenant">
                            {tenants.into_iter().map(|t| view! { <option value=t.slug.clone()>{t.name}</option> }).collect_view()}
                        </select>
                    </label>
                })
            })}
        </Transition>
    }
}
