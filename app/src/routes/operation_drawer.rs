//! An instance operation in a drawer (from the dashboard's timeline and the
//! operations page): what it did, how long it took, why it failed, its
//! build's log live, and Re-run for a failed one. Esc or the backdrop closes it.

use crate::components::forms::{error_message, ActionError};
use crate::components::log_tail::LogTail;
use crate::components::when::When;
use crate::functions::instances::OperateInstance;
use crate::models::capacity::operation_took;
use domain::wire::FleetOperation;
use leptos::html::Aside;
use leptos::prelude::*;

#[component]
pub fn OperationDrawer(
    selected: RwSignal<Option<FleetOperation>>,
    rerun: ServerAction<OperateInstance>,
) -> impl IntoView {
    view! {
        {move || selected.get().map(|o| {
            let events = RwSignal::new(Vec::new());
            let panel = NodeRef::<Aside>::new();
            Effect::new(move |_| {
                if let Some(el) = panel.get() {
                    let _ = el.focus();
                }
            });
            let failed = o.state == "failed";
            let (instance_id, kind) = (o.instance_id, o.kind.clone());
            view! {
                <div class="drawer-backdrop" on:click=move |_| selected.set(None)></div>
                <aside class="drawer" role="dialog" aria-modal="true" aria-labelledby="drawer-title" id="operation-drawer"
                    tabindex="-1" node_ref=panel on:keydown=move |e| if e.key() == "Escape" { selected.set(None) }>
                    <div class="page-head">
                        <h2 id="drawer-title">{format!("{} · {}", o.kind, o.instance)}</h2>
                        <button type="button" class="link" id="drawer-close" aria-label="Close" on:click=move |_| selected.set(None)>"Close"</button>
                    </div>
                    <dl class="facts">
                        <dt>"Tenant"</dt><dd><a href=format!("/tenants/{}", o.tenant_slug)>{o.tenant_slug.clone()}</a></dd>
                        <dt>"Instance"</dt><dd><a href=format!("/instances/{}", o.instance_id)>{o.instance.clone()}</a></dd>
                        <dt>"State"</dt><dd><span class=format!("badge badge-{}", match o.state.as_str() { "done" => "ok", "failed" => "ko", _ => "running" })>{o.state.clone()}</span></dd>
                        <dt>"Asked"</dt><dd><When at=o.created_at/></dd>
                        <dt>"Took"</dt><dd>{operation_took(&o, crate::models::now())}</dd>
                        {o.error.clone().map(|e| view! { <dt>"Error"</dt><dd class="error">{e}</dd> })}
                        {o.build_id.map(|b| view! { <dt>"Build"</dt><dd><a href=format!("/builds/{b}")>"Open the build"</a></dd> })}
                    </dl>
                    {failed.then(|| view! {
                        <ActionForm action=rerun attr:class="inline">
                            <input type="hidden" name="id" value=instance_id.to_string()/>
                            <input type="hidden" name="kind" value=kind.clone()/>
                            <button type="submit" class="primary" id="drawer-rerun">"Re-run"</button>
                        </ActionForm>
                        <ActionError error=Signal::derive(move || rerun.value().with(error_message))/>
                    })}
                    {match o.build_id {
                        Some(b) => view! { <h3>"Log"</h3><LogTail build_id=b events=events/> }.into_any(),
                        None => view! { <p class="muted small">"This operation ran without a build (no log)."</p> }.into_any(),
                    }}
                </aside>
            }
        })}
    }
}
