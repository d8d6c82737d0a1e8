//! Production restores waiting for a second person (projects requiring
//! approval for production), with Approve and Reject for those who may, and
//! the recent decisions. Shown on the project page beside the promotions.

use crate::components::forms::error_message;
use crate::components::project_ref::ProjectRef;
use crate::functions::backups::{list_restore_requests, ApproveRestore, RejectRestore};
use crate::models::short_time;
use leptos::prelude::*;

#[component]
pub fn RestoreRequests(project: ProjectRef) -> impl IntoView {
    let approve = ServerAction::<ApproveRestore>::new();
    let reject = ServerAction::<RejectRestore>::new();
    let list = Resource::new(
        move || (approve.version().get(), reject.version().get()),
        move |_| async move { list_restore_requests(project.id().await?).await },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = list.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="card" id="restore-requests">
                        <h2>"Production restores"</h2>
                        <table class="table">
                            <thead><tr><th>"Backup"</th><th>"Asked by"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|r| {
                                let (id, id2) = (r.id.to_string(), r.id.to_string());
                                view! {
                                    <tr class=format!("restore-request restore-request-{}", r.state)>
                                        <td>{r.backup_created_at.as_ref().map(short_time).unwrap_or_else(|| "a production backup".into())}</td>
                                        <td>{r.requested_by.clone()}</td>
                                        <td>{match r.state.as_str() { "requested" => "waiting for approval", "approved" => "approved", _ => "rejected" }}
                                            {r.decided_by.clone().map(|d| view! { <span class="muted small">" by "{d}</span> })}
                                            {r.build_id.map(|b| view! { " " <a class="small" href=format!("/builds/{b}")>"restore build"</a> })}
                                            {r.reason.clone().map(|x| view! { <div class="muted small">{x}</div> })}</td>
                                        <td>
                                            {r.may_approve.then(|| view! {
                                                <ActionForm action=approve attr:class="inline">
                                                    <input type="hidden" name="request_id" value=id/>
                                                    <button type="submit" class="danger approve-restore">"Approve and restore"</button>
                                                </ActionForm>
                                            })}
                                            {r.may_reject.then(|| view! {
                                                <ActionForm action=reject attr:class="inline">
                                                    <input type="hidden" name="request_id" value=id2/>
                                                    <button type="submit" class="link danger">"Reject"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                        {move || approve.value().with(error_message).map(|m| view! { <p class="error" role="alert">{m}</p> })}
                    </section>
                })
            })}
        </Transition>
    }
}
