//! The project's people (issue 20): its members with their roles — changed in
//! place, removed after a confirmation that says their access ends at once —,
//! inviting a colleague by email with a role, and the invitations still waiting
//! for an answer, which can be withdrawn. Only the project's admins see the
//! controls; everyone sees who is on the project.

use crate::components::confirm::{Ask, ConfirmDialog};
use crate::components::forms::{error_message, ActionError};
use crate::components::project_ref::ProjectRef;
use crate::components::when::When;
use crate::functions::projects::{
    list_members, list_project_invitations, AddMember, InviteMember, RemoveMember, RevokeProjectInvitation,
};
use crate::models::role_label;
use domain::types::Capability;
use domain::wire::InviteOutcome;
use leptos::prelude::*;

const ROLES: [&str; 4] = ["developer", "tester", "release_manager", "admin"];

/// What the invite form says after it was sent.
pub fn invite_notice(email: &str, outcome: &InviteOutcome) -> String {
    match outcome.member.as_ref() {
        Some(m) if outcome.outcome == "added" => {
            format!("{} is now on the project as {}.", m.email, role_label(&m.role).to_lowercase())
        }
        _ => format!("Invitation sent to {email}: they join when they accept it (signed in with that address)."),
    }
}

#[component]
pub fn ProjectPeople(project: ProjectRef) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let change = ServerAction::<AddMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let revoke = ServerAction::<RevokeProjectInvitation>::new();
    let ask: RwSignal<Option<Ask>> = RwSignal::new(None);
    let versions =
        move || (invite.version().get(), change.version().get(), remove.version().get(), revoke.version().get());
    let members = Resource::new(versions, move |_| async move { list_members(project.id().await?).await });
    let pending = Resource::new(versions, move |_| async move {
        match project.detail().await {
            Ok(d) if d.project.allowed.can_project(Capability::ManageMembers) => {
                list_project_invitations(d.project.id).await.unwrap_or_default()
            }
            _ => Vec::new(),
        }
    });
    // The form empties once an invitation went out (and keeps what was typed when it failed).
    let email = RwSignal::new(String::new());
    let invite_role = RwSignal::new("developer".to_string());
    let sent_to = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = invite.value().get() {
            email.set(String::new());
        }
    });
    project.gate(move |d| {
        let (project_id, manages) = (d.project.id, d.project.allowed.can_project(Capability::ManageMembers));
        let project_name = StoredValue::new(d.project.name);
        view! {
            <section class="card" id="people">
                <h2>"Members"</h2>
                <ConfirmDialog ask=ask/>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match members.await {
                            Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                            Ok(list) => view! {
                                <div class="table-wrap"><table class="table" id="members">
                                    <thead><tr><th>"Person"</th><th>"Role"</th>{manages.then(|| view! { <th></th> })}</tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|m| {
                                            let (user, who, role) = (m.user_id, m.email.clone(), m.role.clone());
                                            let remove_click = {
                                                let who = who.clone();
                                                move |_| {
                                                    let project = project_name.get_value();
                                                    ask.set(Some(Ask::new(
                                                        format!("Remove {who} from {project}?"),
                                                        format!("{who} loses access to {project} at once: pages and API tokens stop reaching it, \
                                                                 SSH to its builds is refused and their open shells end. They stay in the tenant."),
                                                        "Remove",
                                                        move || { remove.dispatch(RemoveMember { project_id, user_id: user }); },
                                                    )));
                                                }
                                            };
                                            view! {
                                                <tr data-email=who.clone()>
                                                    <td>{m.display_name.clone()} " " <span class="muted small">{m.email.clone()}</span></td>
                                                    <td>{if manages {
                                                        let email = who.clone();
                                                        view! {
                                                            <select class="member-role" aria-label=format!("Role of {}", who)
                                                                on:change=move |e| { change.dispatch(AddMember { project_id, email: email.clone(), role: event_target_value(&e) }); }>
                                                                {ROLES.iter().map(|r| view! { <option value=*r selected=*r == role>{role_label(r)}</option> }).collect_view()}
                                                            </select>
                                                        }.into_any()
                                                    } else {
                                                        view! { {role_label(&role)} }.into_any()
                                                    }}</td>
                                                    {manages.then(|| view! {
                                                        <td><button type="button" class="link danger remove-member" aria-label=format!("Remove {}", who) on:click=remove_click>"Remove"</button></td>
                                                    })}
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            }.into_any(),
                        }
                    })}
                </Transition>
                <ActionError error=Signal::derive(move || change.value().with(error_message))/>
                <ActionError error=Signal::derive(move || remove.value().with(error_message))/>
                {move || matches!(change.value().get(), Some(Ok(_))).then(|| view! { <p class="notice" id="role-changed">"Role changed."</p> })}
                <Show when=move || manages>
                    <h3>"Invite a colleague"</h3>
                    <form class="row" id="invite-form" on:submit=move |e| {
                        e.prevent_default();
                        sent_to.set(email.get_untracked());
                        invite.dispatch(InviteMember { project_id, email: email.get_untracked(), role: invite_role.get_untracked() });
                    }>
                        <input type="email" name="email" id="invite-email" placeholder="colleague@example.com" required aria-label="Email"
                            prop:value=move || email.get() on:input=move |e| email.set(event_target_value(&e))/>
                        <select name="role" id="invite-role" aria-label="Role" on:change=move |e| invite_role.set(event_target_value(&e))>
                            {ROLES.iter().map(|r| view! { <option value=*r>{role_label(r)}</option> }).collect_view()}
                        </select>
                        <button type="submit" id="invite-send" disabled=move || invite.pending().get()>"Invite"</button>
                    </form>
                    {move || match invite.value().get() {
                        Some(Ok(o)) => Some(view! { <p class="notice" id="invite-result">{invite_notice(&sent_to.get_untracked(), &o)}</p> }.into_any()),
                        Some(Err(e)) => Some(view! { <p class="error" role="alert" id="invite-result">{e.message}</p> }.into_any()),
                        None => None,
                    }}
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let list = pending.await;
                            (!list.is_empty()).then(|| view! {
                                <h3>"Waiting for an answer"</h3>
                                <ul class="stack" id="invitations">
                                    {list.into_iter().map(|i| {
                                        let id = i.id;
                                        view! {
                                            <li>{i.email.clone()} " · " {role_label(&i.role)}
                                                <span class="muted small">" · invited " <When at=i.created_at/> " · until " <When at=i.expires_at/></span>
                                                " " <button type="button" class="link danger revoke-invitation"
                                                    on:click=move |_| { revoke.dispatch(RevokeProjectInvitation { project_id, invitation_id: id }); }>"Withdraw"</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            })
                        })}
                    </Transition>
                    <ActionError error=Signal::derive(move || revoke.value().with(error_message))/>
                </Show>
            </section>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::wire::MemberView;

    #[test]
    fn the_notice_says_whether_they_joined_or_were_invited() {
        let added = InviteOutcome {
            outcome: "added".into(),
            member: Some(MemberView {
                user_id: uuid::Uuid::nil(),
                email: "bob@acme.test".into(),
                display_name: "Bob".into(),
                role: "release_manager".into(),
            }),
            invitation: None,
        };
        assert_eq!(invite_notice("bob@acme.test", &added), "bob@acme.test is now on the project as release manager.");
        let invited = InviteOutcome { outcome: "invited".into(), member: None, invitation: Some(uuid::Uuid::nil()) };
        assert!(invite_notice("eve@x.test", &invited).starts_with("Invitation sent to eve@x.test"));
    }
}
