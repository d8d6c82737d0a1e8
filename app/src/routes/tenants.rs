//! Tenants: the organisations the user belongs to (all of them for platform
//! staff), the invitations waiting for their answer, and, for a tenant's
//! admins, a form to invite someone by email.

use crate::components::forms::{error_message, ActionError};
use crate::functions::tenants::{list_invitations, list_tenants, AnswerInvitation, CreateTenant, InviteMember};
use crate::models::role_label;
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TenantsPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let create = ServerAction::<CreateTenant>::new();
    let answer = ServerAction::<AnswerInvitation>::new();
    let invite = ServerAction::<InviteMember>::new();
    let tenants = Resource::new(move || (create.version().get(), answer.version().get()), |_| list_tenants());
    let invitations = Resource::new(move || answer.version().get(), |_| list_invitations());
    view! {
        <Title text="Tenants"/>
        <div class="page-head">
            <h1>"Tenants"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    crate::models::is_platform_staff(me.await.ok().flatten().as_ref()).then(|| view! {
                        <a class="button primary" href="/tenants/new" id="new-tenant">"New tenant"</a>
                    })
                })}
            </Transition>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = crate::models::is_platform_staff(me.await.ok().flatten().as_ref());
                let list = tenants.await;
                let pending = invitations.await.unwrap_or_default();
                let administered: Vec<(uuid::Uuid, String)> = list.as_ref().map(|l| l.iter()
                    .filter(|t| t.role.as_deref() == Some("tenant_admin"))
                    .map(|t| (t.id, t.name.clone())).collect()).unwrap_or_default();
                view! {
                    {(!pending.is_empty()).then(|| view! {
                        <section class="card narrow">
                            <h2>"Invitations"</h2>
                            <ul class="stack">{pending.into_iter().map(|i| view! {
                                <li id=format!("invitation-{}", i.id) class="invitation">
                                    {match (&i.project_name, &i.project_role) {
                                        (Some(project), Some(role)) => format!("{} invites you to the project {project} as {}", i.tenant_name, role_label(role)),
                                        _ => format!("{} invites you as {}", i.tenant_name, role_label(&i.role)),
                                    }}
                                    <ActionForm action=answer attr:class="inline">
                                        <input type="hidden" name="id" value=i.id.to_string()/>
                                        <input type="hidden" name="accept" value="true"/>
                                        <button type="submit" class="primary">"Accept"</button>
                                    </ActionForm>
                                    <ActionForm action=answer attr:class="inline">
                                        <input type="hidden" name="id" value=i.id.to_string()/>
                                        <input type="hidden" name="accept" value="false"/>
                                        <button type="submit">"Decline"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}</ul>
                            <ActionError error=Signal::derive(move || answer.value().with(error_message))/>
                        </section>
                    })}
                    <crate::routes::fleet::FleetTable/>
                    <p class="small muted"><a href="/plans">"Plans"</a>" · "<a href="/size-profiles">"Size profiles"</a>" · "<a href="/operations">"Operations"</a></p>
                    {(!administered.is_empty()).then(|| view! {
                        <section class="card narrow">
                            <h2>"Invite someone"</h2>
                            <p class="muted small">"They join once they accept, from this page, signed in with that address."</p>
                            <ActionForm action=invite attr:class="stack">
                                <label>"Tenant" <select name="tenant_id">{administered.into_iter().map(|(id, name)| view! {
                                    <option value=id.to_string()>{name}</option>
                                }).collect_view()}</select></label>
                                <label>"Email" <input type="email" name="email" required maxlength="200"/></label>
                                <label>"Role" <select name="role">
                                    <option value="member">"Member"</option>
                                    <option value="tenant_admin">"Tenant admin"</option>
                                </select></label>
                                <ActionError error=Signal::derive(move || invite.value().with(error_message))/>
                                {move || invite.value().with(|v| matches!(v, Some(Ok(())))).then(|| view! {
                                    <p class="muted">"Invitation sent."</p>
                                })}
                                <button type="submit" class="primary">"Invite"</button>
                            </ActionForm>
                        </section>
                    })}
                    {admin.then(|| view! {
                        <section class="card narrow">
                            <h2>"New tenant"</h2>
                            <ActionForm action=create attr:class="stack">
                                <label>"Name" <input type="text" name="name" required maxlength="80"/></label>
                                <label>"Slug" <small class="muted">" (optional)"</small> <input type="text" name="slug" maxlength="40"/></label>
                                <ActionError error=Signal::derive(move || create.value().with(error_message))/>
                                <button type="submit" class="primary">"Create tenant"</button>
                            </ActionForm>
                        </section>
                    })}
                }
            })}
        </Transition>
    }
}
