//! Analytics (`/integrations/analytics`): each tenant's Supabase project
//! (its ref; the Supabase kit manages it) and the dashboards its people look
//! at. Links only: the console never fetches a dashboard.

use crate::components::forms::{error_message, ActionError};
use crate::functions::integrations::{list_analytics, SaveAnalytics};
use crate::models::integrations::dashboard_text;
use crate::routes::automation::IntegrationsNav;
use domain::types::SupabaseRef;
use domain::wire::AnalyticsView;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let save = ServerAction::<SaveAnalytics>::new();
    let links = Resource::new(move || save.version().get(), |_| list_analytics());
    view! {
        <Title text="Analytics"/>
        <h1>"Integrations"</h1>
        <IntegrationsNav current="analytics"/>
        <p class="muted">"Where a tenant's side data and reports live: its Supabase project and its dashboards."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match links.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty" id="analytics-empty"><p>"No tenant yet: links belong to a tenant."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div id="analytics">{list.into_iter().map(|a| view! { <TenantLinks a=a save=save/> }).collect_view()}</div>
                    }.into_any(),
                }
            })}
        </Transition>
        <ActionError error=Signal::derive(move || save.value().with(error_message))/>
    }
}

#[component]
fn TenantLinks(a: AnalyticsView, save: ServerAction<SaveAnalytics>) -> impl IntoView {
    let reference = RwSignal::new(a.supabase_ref.clone().unwrap_or_default());
    let ref_error = move || {
        reference.with(|r| (!r.trim().is_empty()).then(|| SupabaseRef::parse(r).err().map(|e| e.reason)).flatten())
    };
    let project = a.supabase_ref.clone().map(|r| {
        let href = format!("https://supabase.com/dashboard/project/{r}");
        view! { <a href=href rel="noopener" target="_blank"><code>{r}</code></a> }
    });
    let section_id = format!("analytics-{}", a.tenant_slug);
    view! {
        <section class="card" id=section_id>
            <h2>{a.tenant_name.clone()}</h2>
            <dl class="facts">
                <dt>"Supabase project"</dt>
                <dd>{project.map(|v| v.into_any()).unwrap_or_else(|| view! { <span class="muted">"none linked"</span> }.into_any())}</dd>
                <dt>"Dashboards"</dt>
                <dd>{if a.dashboards.is_empty() {
                    view! { <span class="muted">"none"</span> }.into_any()
                } else {
                    view! { <ul class="plain">{a.dashboards.iter().map(|d| view! {
                        <li><a href=d.url.clone() rel="noopener" target="_blank">{d.name.clone()}</a></li>
                    }).collect_view()}</ul> }.into_any()
                }}</dd>
            </dl>
            {a.editable.then(|| view! {
                <details>
                    <summary>"Edit links"</summary>
                    <ActionForm action=save attr:class="stack narrow-form">
                        <input type="hidden" name="tenant" value=a.tenant_slug.clone()/>
                        <label>"Supabase project ref" <small class="muted">"20 lowercase letters, from https://<ref>.supabase.co; empty to unlink"</small>
                            <input name="supabase_ref" maxlength="20" prop:value=move || reference.get()
                                on:input=move |e| reference.set(event_target_value(&e))/>
                        </label>
                        {move || ref_error().map(|e| view! { <p class="error small">{e}</p> })}
                        <label>"Dashboards" <small class="muted">"one per line: a name, then its http(s) URL"</small>
                            <textarea name="dashboards" rows="3">{dashboard_text(&a.dashboards)}</textarea>
                        </label>
                        <button type="submit" disabled=move || ref_error().is_some()>"Save links"</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}
