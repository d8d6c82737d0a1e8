//! A tenant's or project's Supabase link on its page: the ref, whether a
//! token is set, linking (the token goes to the server and is sealed there)
//! and unlinking, and the button that opens the kit (also `?kit=<tab>`).

use crate::components::forms::{error_message, ActionError};
use crate::components::kit::KitDialog;
use crate::components::project_ref::ProjectRef;
use crate::error::AppError;
use crate::functions::integrations::{list_supabase_links, LinkSupabase, UnlinkSupabase};
use crate::models::kit::{kit_tab, KitTarget};
use domain::types::SupabaseRef;
use domain::wire::SupabaseLinkView;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

/// A tenant's panel (`tenant`), or a project's (`project`, whose tenant it is).
#[component]
pub fn SupabasePanel(#[prop(optional)] tenant: String, #[prop(optional)] project: Option<ProjectRef>) -> impl IntoView {
    let link = ServerAction::<LinkSupabase>::new();
    let unlink = ServerAction::<UnlinkSupabase>::new();
    let links = Resource::new(move || (link.version().get(), unlink.version().get()), |_| list_supabase_links());
    match project {
        None => view! { <Panel tenant=tenant project=None links=links link=link unlink=unlink/> }.into_any(),
        Some(p) => p
            .gate(move |d| {
                view! { <Panel tenant=d.project.tenant_slug project=Some(d.project.id) links=links link=link unlink=unlink/> }
            })
            .into_any(),
    }
}

#[component]
fn Panel(
    tenant: String,
    project: Option<Uuid>,
    links: Resource<Result<Vec<SupabaseLinkView>, AppError>>,
    link: ServerAction<LinkSupabase>,
    unlink: ServerAction<UnlinkSupabase>,
) -> impl IntoView {
    let query = use_query_map();
    let asked = query.with_untracked(|q| q.get("kit"));
    // `?kit=` opens the dialog once the page is live (an Effect runs in the browser only): a modal
    // rendered open on the server and then hydrated could stay inert.
    let open = RwSignal::new(false);
    let wanted = asked.is_some();
    Effect::new(move |_| {
        if wanted {
            open.set(true)
        }
    });
    let tab = RwSignal::new(kit_tab(asked.as_deref().unwrap_or_default()));
    let reference = RwSignal::new(String::new());
    let form_tenant = tenant.clone();
    let ref_error = move || {
        reference.with(|r| (!r.trim().is_empty()).then(|| SupabaseRef::parse(r).err().map(|e| e.reason)).flatten())
    };
    view! {
        <section class="card" id="supabase-panel">
            <h2>"Supabase"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {
                    let tenant = tenant.clone();
                    move || {
                        let tenant = tenant.clone();
                        Suspend::new(async move {
                            let mine = links.await.map(|all| {
                                all.into_iter().find(|l| l.tenant_slug == tenant && l.project_id == project)
                            });
                            match mine {
                                Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                                Ok(None) => view! { <p class="muted" id="supabase-none">
                                    "No Supabase project linked. Each build's page opens its own database in the same dialog (local mode)."</p> }.into_any(),
                                Ok(Some(l)) => {
                                    let id = l.id;
                                    view! {
                                        <p>"Linked to "<code id="supabase-ref">{l.reference.clone()}</code>" · "
                                            {if l.has_token { "Management API token sealed" } else { "no token yet (the kit needs one)" }}</p>
                                        <div class="row">
                                            {l.has_token.then(|| view! {
                                                <button type="button" class="primary" id="open-kit" on:click=move |_| open.set(true)>"Open the kit"</button>
                                            })}
                                            {l.writes.then(|| view! {
                                                <button type="button" class="danger" on:click=move |_| { unlink.dispatch(UnlinkSupabase { id }); }>"Unlink (deletes the token)"</button>
                                            })}
                                        </div>
                                        {l.has_token.then(|| view! { <KitDialog target=KitTarget::Supabase(l.reference.clone()) writes=l.writes open=open tab=tab/> })}
                                    }.into_any()
                                }
                            }
                        })
                    }
                }
            </Transition>
            <details>
                <summary>"Link a Supabase project"</summary>
                <ActionForm action=link attr:class="stack narrow-form" attr:id="supabase-link">
                    <input type="hidden" name="tenant" value=form_tenant/>
                    {project.map(|p| view! { <input type="hidden" name="project_id" value=p.to_string()/> })}
                    <label>"Project ref" <small class="muted">"the 20 letters of https://<ref>.supabase.co"</small>
                        <input name="reference" required maxlength="20" prop:value=move || reference.get()
                            on:input=move |e| reference.set(event_target_value(&e))/></label>
                    {move || ref_error().map(|e| view! { <p class="error small">{e}</p> })}
                    <label>"Management API token" <small class="muted">"sealed on the server, never shown again"</small>
                        <input name="token" type="password" autocomplete="off" required/></label>
                    <ActionError error=Signal::derive(move || link.value().with(error_message).or_else(|| unlink.value().with(error_message)))/>
                    <button type="submit" disabled=move || ref_error().is_some()>"Link"</button>
                </ActionForm>
            </details>
        </section>
    }
}
