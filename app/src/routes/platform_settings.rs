//! Platform settings (`/settings/platform`): who runs the installation. Owners
//! grant and withdraw platform roles here (audited); staff and auditors see
//! who holds them. Above them, the run-time settings: sign-up, instances per
//! tenant, and the preflight gates' limits.

use crate::components::forms::{error_message, ActionError};
use crate::functions::platform::{platform_roles, platform_settings, SavePlatformSettings, SetPlatformRole};
use leptos::prelude::*;
use leptos_meta::Title;

/// What each platform role may do, as the roles page explains it.
pub const ROLE_TEXT: &[(&str, &str)] = &[
    ("platform_owner", "Owner: everything, including granting these roles."),
    ("platform_operator", "Operator: everything except deleting tenants and platform settings."),
    ("auditor", "Auditor: reads everything, changes nothing."),
    ("finance_owner", "Finance: billing only (tenants, plans, subscriptions)."),
];

#[component]
pub fn PlatformSettingsPage() -> impl IntoView {
    let set = ServerAction::<SetPlatformRole>::new();
    let roles = Resource::new(move || set.version().get(), |_| platform_roles());
    let save = ServerAction::<SavePlatformSettings>::new();
    let settings = Resource::new(move || save.version().get(), |_| platform_settings());
    view! {
        <Title text="Platform settings"/>
        <h1>"Platform settings"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Err(e) => view! { <p class="error" role="alert" id="settings-denied">{e.message}</p> }.into_any(),
                    Ok(s) => view! {
                        <section class="card narrow">
                            <h2>"Run-time settings"</h2>
                            <ActionForm action=save attr:class="stack" attr:id="platform-settings-form">
                                <label class="inline-choice"><input type="checkbox" name="signup_open" value="on" checked=s.signup_open/>
                                    " Anyone may sign up"</label>
                                <p class="muted small">{format!("The console was started with sign-up {}; this setting wins once saved.",
                                    if s.signup_open_flag { "open" } else { "closed" })}</p>
                                <label>"Instances a tenant may keep"
                                    <input type="number" name="instances_per_tenant" min="1" max="1000" value=s.instances_per_tenant.to_string()/></label>
                                <label>"PostgreSQL extensions modules may use" <small class="muted">"plpgsql always; separate names with commas"</small>
                                    <input name="preflight_extensions" maxlength="2000" value=s.preflight_extensions.join(", ")/></label>
                                <div class="row">
                                    <label>"Relations: warn from"
                                        <input type="number" name="preflight_objects_warn" min="100" max="1000000" value=s.preflight_objects_warn.to_string()/></label>
                                    <label>"fail from"
                                        <input type="number" name="preflight_objects_fail" min="100" max="1000000" value=s.preflight_objects_fail.to_string()/></label>
                                </div>
                                <ActionError error=Signal::derive(move || save.value().with(error_message))/>
                                <button type="submit" class="primary">"Save settings"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
        <h2>"Platform roles"</h2>
        <ul class="plain small">{ROLE_TEXT.iter().map(|(_, t)| view! { <li>{*t}</li> }).collect_view()}</ul>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Err(e) => view! { <p class="error" role="alert" id="roles-denied">{e.message}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="table" id="platform-roles">
                            <thead><tr><th>"Person"</th><th>"Email"</th><th>"Role"</th></tr></thead>
                            <tbody>{list.into_iter().map(|m| view! {
                                <tr><td>{m.display_name}</td><td>{m.email}</td><td><code>{m.role}</code></td></tr>
                            }).collect_view()}</tbody>
                        </table></div>
                        <section class="card narrow">
                            <h2>"Grant or withdraw a role"</h2>
                            <ActionForm action=set attr:class="stack" attr:id="grant-role">
                                <label>"Email" <input type="email" name="email" required maxlength="200"/></label>
                                <label>"Role" <select name="role">
                                    {ROLE_TEXT.iter().map(|(r, _)| view! { <option value=*r>{*r}</option> }).collect_view()}
                                    <option value="">"none (withdraw)"</option>
                                </select></label>
                                <ActionError error=Signal::derive(move || set.value().with(error_message))/>
                                <button type="submit" class="primary">"Save"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
