//! Tenants: the organisations the user belongs to (all of them for platform staff).

use crate::components::forms::{error_message, ActionError};
use crate::functions::tenants::{list_tenants, CreateTenant};
use crate::models::{role_label, short_time};
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TenantsPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let create = ServerAction::<CreateTenant>::new();
    let tenants = Resource::new(move || create.version().get(), |_| list_tenants());
    view! {
        <Title text="Tenants"/>
        <h1>"Tenants"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let admin = me.await.ok().flatten()
                    .and_then(|m| m.platform_role)
                    .is_some_and(|r| r == "platform_owner" || r == "platform_operator");
                let list = tenants.await;
                view! {
                    {match list {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"Slug"</th><th>"Your role"</th><th>"Created"</th></tr></thead>
                                <tbody>{list.into_iter().map(|t| view! {
                                    <tr><td>{t.name}</td><td><code>{t.slug}</code></td>
                                        <td>{role_label(t.role.as_deref().unwrap_or(""))}</td>
                                        <td class="muted small">{short_time(&t.created_at)}</td></tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                    }}
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
