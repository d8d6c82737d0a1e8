//! Integrations: single sign-on per tenant (`/integrations/sso`). The client
//! secrets stay sealed on the server; this page says only whether one is set.

use crate::functions::fleet::sso_configs;
use crate::models::short_time;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SsoIntegrationsPage() -> impl IntoView {
    let configs = Resource::new(|| (), |_| sso_configs());
    view! {
        <Title text="Single sign-on"/>
        <h1>"Integrations"</h1>
        <crate::routes::automation::IntegrationsNav current="sso"/>
        <p class="muted">"Tenants whose instances sign people in through an OpenID Connect provider. \
            The tenant wizard sets it up and tests the issuer; instances get the provider when they are provisioned."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match configs.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty" id="sso-empty"><p>"No tenant signs in through single sign-on yet."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="table" id="sso-configs">
                            <thead><tr><th>"Tenant"</th><th>"Issuer"</th><th>"Client id"</th><th>"Scopes"</th><th>"Secret"</th><th>"Tested"</th></tr></thead>
                            <tbody>{list.into_iter().map(|c| view! {
                                <tr>
                                    <td><a href=format!("/tenants/{}?tab=sso", c.tenant_slug)>{c.tenant_name.clone()}</a></td>
                                    <td class="small">{c.issuer.clone()}</td>
                                    <td><code>{c.client_id.clone()}</code></td>
                                    <td class="small">{c.scopes.clone()}</td>
                                    <td>{if c.has_secret { "sealed" } else { "none" }}</td>
                                    <td class="muted small">{c.tested_at.as_ref().map(short_time).unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
