//! Bundles: the list (the platform's and your tenants'), and the editor —
//! name, series, tenant and modules, with the closure computed as you type
//! (the modules dependencies add, what is missing for the series, external
//! dependencies and license warnings); saving is refused while a module is
//! missing or not installable.

use crate::components::forms::{error_message, ActionError};
use crate::functions::catalog::{bundle_closure, get_bundle, list_bundles, DeleteBundle, SaveBundle};
use crate::functions::tenants::list_tenants;
use crate::models::catalog::{closure_summary, origin_label};
use crate::MeResource;
use domain::types::{Closure, OdooVersion};
use domain::wire::BundleView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn BundlesPage() -> impl IntoView {
    let bundles = Resource::new(|| (), |_| list_bundles(None));
    view! {
        <Title text="Bundles"/>
        <h1>"Bundles"</h1>
        <p class="muted">"Named module sets per Odoo series: instances are created with one, and get more by applying one."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading bundles…"</p> }>
            {move || Suspend::new(async move {
                match bundles.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty" id="bundles-empty"><p>"No bundle yet."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" id="bundles">
                            <thead><tr><th>"Bundle"</th><th>"For"</th><th>"Series"</th><th>"Modules"</th><th>"Closure"</th></tr></thead>
                            <tbody>{list.into_iter().map(|b| view! {
                                <tr>
                                    <td><a href=format!("/bundles/{}", b.id)>{b.name.clone()}</a></td>
                                    <td>{b.tenant_slug.clone().unwrap_or_else(|| "every tenant".into())}</td>
                                    <td>{b.series.clone()}</td>
                                    <td class="small">{b.modules.join(", ")}</td>
                                    <td class="small">{closure_summary(&b.closure)}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"New bundle"</h2>
            <BundleEditor bundle=None/>
        </section>
    }
}

#[component]
pub fn BundlePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let bundle = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_bundle(id).await,
            None => Err(crate::error::AppError { code: domain::ErrorCode::NotFound, message: "no such bundle".into() }),
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the bundle…"</p> }>
            {move || Suspend::new(async move {
                match bundle.await {
                    Err(e) => view! { <h1>"Bundle"</h1><p class="error">{e.message}</p> }.into_any(),
                    Ok(b) => view! {
                        <Title text=b.name.clone()/>
                        <h1>{b.name.clone()}</h1>
                        <p class="muted">{format!("Odoo {} · {}", b.series, b.tenant_slug.clone().unwrap_or_else(|| "every tenant".into()))}</p>
                        <BundleEditor bundle=Some(b)/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The closure, as the editor shows it under the modules.
#[component]
pub(crate) fn ClosureView(c: Closure) -> impl IntoView {
    view! {
        <div id="bundle-closure">
            <p class=if c.is_valid() { "ok" } else { "error" }>{closure_summary(&c)}</p>
            {c.missing.iter().map(|n| view! {
                <p class="error small">{format!("{} is not in the catalog for this series (needed by {})", n.module, n.by)}</p>
            }).collect_view()}
            {c.not_installable.iter().map(|m| view! { <p class="error small">{format!("{m} is not installable in this series")}</p> }).collect_view()}
            {c.license_warnings.iter().map(|w| view! { <p class="warn small">{w.clone()}</p> }).collect_view()}
            {c.external.iter().map(|n| view! { <p class="warn small">{format!("{} needs {}", n.by, n.module)}</p> }).collect_view()}
            <ul class="plain small">
                {c.modules.iter().map(|(m, o)| view! { <li><code>{m.clone()}</code>" "<span class="muted">{origin_label(*o)}</span></li> }).collect_view()}
            </ul>
        </div>
    }
}

/// Creates a bundle (`bundle` none) or changes one, with its closure live.
#[component]
fn BundleEditor(bundle: Option<BundleView>) -> impl IntoView {
    let me = expect_context::<MeResource>();
    let save = ServerAction::<SaveBundle>::new();
    let delete = ServerAction::<DeleteBundle>::new();
    let may_edit = bundle.as_ref().is_none_or(|b| b.may_edit);
    let series = RwSignal::new(bundle.as_ref().map(|b| b.series.clone()).unwrap_or_else(|| "17.0".into()));
    let modules = RwSignal::new(bundle.as_ref().map(|b| b.modules.join(", ")).unwrap_or_default());
    let closure = Resource::new(
        move || (series.get(), modules.get()),
        |(s, m)| async move {
            if m.trim().is_empty() {
                Ok(Closure::default())
            } else {
                bundle_closure(s, m).await
            }
        },
    );
    let tenants = Resource::new(|| (), |_| list_tenants());
    let saved = move || save.value().with(|v| matches!(v, Some(Ok(_))));
    let failed =
        Signal::derive(move || save.value().with(error_message).or_else(|| delete.value().with(error_message)));
    let id = bundle.as_ref().map(|b| b.id);
    let tenant = bundle.as_ref().and_then(|b| b.tenant_slug.clone());
    view! {
        <ActionForm action=save attr:class="stack" attr:id="bundle-form">
            {id.map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> })}
            <label>"Name "<input name="name" required maxlength="80" value=bundle.as_ref().map(|b| b.name.clone()).unwrap_or_default()/></label>
            <label>"For "
                <Transition fallback=|| ()>
                    {move || {
                        let tenant = tenant.clone();
                        Suspend::new(async move {
                            let staff = crate::models::is_platform_staff(me.await.ok().flatten().as_ref());
                            let list = tenants.await.unwrap_or_default();
                            view! {
                                <select name="tenant" aria-label="Tenant">
                                    {staff.then(|| view! { <option value="" selected=tenant.is_none()>"every tenant (the platform's)"</option> })}
                                    {list.into_iter().filter(|t| staff || t.role.as_deref() == Some("tenant_admin")).map(|t| {
                                        let selected = tenant.as_deref() == Some(t.slug.as_str());
                                        view! { <option value=t.slug.clone() selected=selected>{t.name.clone()}</option> }
                                    }).collect_view()}
                                </select>
                            }
                        })
                    }}
                </Transition>
            </label>
            <label>"Odoo series "
                <select name="series" aria-label="Series" on:change=move |e| series.set(event_target_value(&e))>
                    {OdooVersion::SUPPORTED.iter().map(|v| view! { <option value=*v selected=series.get_untracked() == *v>{*v}</option> }).collect_view()}
                </select>
            </label>
            <label>"Modules "<textarea name="modules" rows="3" required placeholder="partner_firstname, web_environment_ribbon"
                on:input=move |e| modules.set(event_target_value(&e)) prop:value=move || modules.get()></textarea></label>
            <label>"Description "<input name="description" maxlength="2000" value=bundle.as_ref().map(|b| b.description.clone()).unwrap_or_default()/></label>
            <Transition fallback=|| view! { <p class="muted small">"Computing the closure…"</p> }>
                {move || Suspend::new(async move {
                    match closure.await {
                        Err(e) => view! { <p class="error small">{e.message}</p> }.into_any(),
                        Ok(c) => view! { <ClosureView c=c/> }.into_any(),
                    }
                })}
            </Transition>
            {may_edit.then(|| view! { <button type="submit" id="bundle-save">"Save bundle"</button> })}
            {move || saved().then(|| view! { <span class="ok small" id="bundle-saved">"Saved."</span> })}
        </ActionForm>
        {id.filter(|_| may_edit).map(|id| view! {
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="id" value=id.to_string()/>
                <label class="small"><input type="checkbox" required/>" sure"</label>
                <button type="submit" class="danger">"Delete bundle"</button>
            </ActionForm>
        })}
        <ActionError error=failed/>
    }
}
