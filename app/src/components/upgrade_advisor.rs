//! The upgrade advisor on a project's page: preview production on a newer
//! series (project admins), and the previews so far with their risk, the
//! preview build and the report to download (HTML or JSON).

use crate::components::forms::{error_message, ActionError};
use crate::components::project_ref::ProjectRef;
use crate::functions::upgrades::{list_previews, RequestUpgrade, StartPreview};
use crate::models::short_time;
use domain::types::Capability;
use leptos::prelude::*;

#[component]
pub fn UpgradeAdvisor(project: ProjectRef) -> impl IntoView {
    let start = ServerAction::<StartPreview>::new();
    let upgrade = ServerAction::<RequestUpgrade>::new();
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Ok(h) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(5)) {
            on_cleanup(move || h.clear());
        }
    });
    let list = Resource::new(
        move || (tick.get(), start.version().get()),
        move |_| async move { list_previews(project.id().await?).await },
    );
    project.gate(move |d| {
        let (project_id, is_admin) = (d.project.id, d.project.allowed.can_project(Capability::ProjectSettings));
        let targets = domain::types::upgrade_targets(&d.project.odoo_version);
        view! {
            <section class="card" id="upgrade-advisor">
                <h2>"Upgrade advisor"</h2>
                <p class="muted small">"A preview runs production on a newer series before anyone upgrades it: a neutralized copy, the target image and your branch for that series, every module updated (-u all) and the tests; the report lists blockers, warnings, modules without a target version, the migration's duration, the database's size and key tables' rows before and after."</p>
                {(is_admin && !targets.is_empty()).then(|| view! {
                    <ActionForm action=start attr:class="inline" attr:id="start-preview">
                        <input type="hidden" name="project_id" value=project_id.to_string()/>
                        <label>"Target " <select name="target_series">
                            {targets.iter().map(|t| view! { <option value=*t>{*t}</option> }).collect_view()}
                        </select></label>
                        <label>" Branch " <input type="text" name="branch" placeholder="the production branch"/></label>
                        <button type="submit">"Preview the upgrade"</button>
                    </ActionForm>
                    <ActionError error=Signal::derive(move || start.value().with(error_message))/>
                })}
                <ActionError error=Signal::derive(move || upgrade.value().with(error_message))/>
                {move || upgrade.value().get().and_then(|r| r.ok()).map(|_| view! {
                    <p class="notice" id="upgrade-requested">"Upgrade requested: it waits under Promotions for someone else with release rights. Production is backed up first and rolled back to that backup if the upgrade fails."</p>
                })}
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = list.await.unwrap_or_default();
                        (!list.is_empty()).then(|| view! {
                            <table class="table">
                                <thead><tr><th>"Started"</th><th>"Series"</th><th>"State"</th><th>"Risk"</th><th>"Report"</th></tr></thead>
                                <tbody>{list.into_iter().map(|v| view! {
                                    <tr class=format!("preview preview-{}", v.state)>
                                        <td>{short_time(&v.created_at)}</td>
                                        <td>{v.source_series.clone()} " → " {v.target_series.clone()} " " <code>{v.target_branch.clone()}</code></td>
                                        <td>{v.state.clone()}
                                            {v.build_id.map(|b| view! { " " <a class="small" href=format!("/builds/{b}")>"build"</a> })}</td>
                                        <td>{v.risk.map(|r| r.as_str()).unwrap_or("…")}
                                            {v.blockers.first().cloned().map(|b| view! { <div class="muted small">{b}</div> })}</td>
                                        <td><a href=format!("/api/v1/upgrade-previews/{}/report.html", v.id) rel="external">"HTML"</a>
                                            " · " <a href=format!("/api/v1/upgrade-previews/{}", v.id) rel="external">"JSON"</a>
                                            {(is_admin && matches!(v.state.as_str(), "passed" | "warned")).then(|| view! {
                                                <ActionForm action=upgrade attr:class="inline">
                                                    <input type="hidden" name="preview_id" value=v.id.to_string()/>
                                                    <button type="submit" class="danger request-upgrade">"Upgrade production…"</button>
                                                </ActionForm>
                                            })}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        })
                    })}
                </Transition>
            </section>
        }
    })
}
