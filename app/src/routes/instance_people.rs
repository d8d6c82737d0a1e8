//! Two cards of an instance's page: its custom domains (add, verify with
//! what to point DNS at, remove — tenant admins) and the members of its
//! tenant. Each loads on its own, so a slow verification never holds the
//! rest of the page.

use crate::components::forms::{error_message, ActionError};
use crate::functions::instances::{
    list_instance_domains, list_instance_members, AddInstanceDomain, RemoveInstanceDomain, VerifyInstanceDomain,
};
use leptos::prelude::*;

/// The instance's custom domains, with the add form and each one's verify and remove buttons.
#[component]
pub fn DomainsCard(id: uuid::Uuid, may_change: bool) -> impl IntoView {
    let add = ServerAction::<AddInstanceDomain>::new();
    let verify = ServerAction::<VerifyInstanceDomain>::new();
    let remove = ServerAction::<RemoveInstanceDomain>::new();
    let domains = Resource::new(
        move || (add.version().get(), verify.version().get(), remove.version().get()),
        move |_| async move { list_instance_domains(id).await },
    );
    let failed = Signal::derive(move || {
        add.value()
            .with(error_message)
            .or_else(|| verify.value().with(error_message))
            .or_else(|| remove.value().with(error_message))
    });
    view! {
        <section class="card" id="instance-domains">
            <h2>"Custom domains"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading domains…"</p> }>
                {move || Suspend::new(async move {
                    match domains.await {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"None yet. Add one, point its DNS at this workspace, then verify it."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Domain"</th><th>"State"</th><th>"DNS"</th><th></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|d| {
                                        let pending = d.state != "verified";
                                        view! {
                                            <tr>
                                                <td><code>{d.hostname.clone()}</code></td>
                                                <td>
                                                    <span class=if pending { "badge badge-warn" } else { "badge badge-ok" }>{d.state.clone()}</span>
                                                    {d.last_error.clone().map(|e| view! { <div class="error small">{e}</div> })}
                                                </td>
                                                <td class="small">"CNAME → "<code>{d.dns_target.clone()}</code></td>
                                                <td class="row">
                                                    {(may_change && pending).then(|| view! {
                                                        <ActionForm action=verify attr:class="inline">
                                                            <input type="hidden" name="id" value=id.to_string()/>
                                                            <input type="hidden" name="domain_id" value=d.id.to_string()/>
                                                            <button type="submit">"Verify"</button>
                                                        </ActionForm>
                                                    })}
                                                    {may_change.then(|| view! {
                                                        <ActionForm action=remove attr:class="inline">
                                                            <input type="hidden" name="id" value=id.to_string()/>
                                                            <input type="hidden" name="domain_id" value=d.id.to_string()/>
                                                            <label class="small"><input type="checkbox" required/>" sure"</label>
                                                            <button type="submit" class="danger">"Remove"</button>
                                                        </ActionForm>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            {may_change.then(|| view! {
                <ActionForm action=add attr:class="inline" attr:id="add-domain">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Domain "<input name="hostname" placeholder="erp.example.com" required autocomplete="off"/></label>
                    <button type="submit">"Add domain"</button>
                </ActionForm>
            })}
            <ActionError error=failed/>
        </section>
    }
}

/// Who belongs to the instance's tenant (managing them is the tenant's page).
#[component]
pub fn MembersCard(id: uuid::Uuid) -> impl IntoView {
    let members = Resource::new(|| (), move |_| async move { list_instance_members(id).await });
    view! {
        <section class="card" id="instance-members">
            <h2>"Members"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    match members.await {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="plain">
                                {list.into_iter().map(|m| view! {
                                    <li>{m.display_name.clone()}" "<span class="muted small">{m.email.clone()}</span>
                                        " "<span class="badge">{if m.role == "tenant_admin" { "admin" } else { "member" }}</span></li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Applying a bundle of the instance's series (backed up first, then its modules installed).
#[component]
pub fn ApplyBundleForm(
    id: uuid::Uuid,
    series: String,
    seen: usize,
    operate: ServerAction<crate::functions::instances::OperateInstance>,
) -> impl IntoView {
    let bundles = Resource::new(move || series.clone(), |s| crate::functions::catalog::list_bundles(Some(s)));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = bundles.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <ActionForm action=operate attr:class="inline" attr:id="apply-bundle">
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="kind" value="apply_bundle"/>
                        <input type="hidden" name="idempotency_key" value=format!("apply-{id}-{seen}")/>
                        <select name="bundle_id" aria-label="Bundle" required>
                            {list.into_iter().map(|b| view! { <option value=b.id.to_string()>{b.name.clone()}</option> }).collect_view()}
                        </select>
                        <button type="submit">"Apply bundle"</button>
                        <span class="muted small">"backs up first, then installs what the bundle adds"</span>
                    </ActionForm>
                })
            })}
        </Transition>
    }
}
