//! The module catalog: a searchable list (series, category, license and
//! source filters, 20 a page), each module's page (its versions by series,
//! dependencies, dependents, and the bundles and instances using it), and —
//! for platform staff — the sources it reads, with their last refresh.

use crate::components::forms::{error_message, ActionError};
use crate::functions::catalog::{get_module, list_sources, search_catalog, AddSource, RefreshSource, RemoveSource};
use crate::models::catalog::page_text;
use crate::MeResource;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

const PER_PAGE: i64 = 20;

fn choice(label: &'static str, options: Vec<String>, value: RwSignal<String>, reset: RwSignal<i64>) -> impl IntoView {
    view! {
        <select aria-label=label on:change=move |e| { value.set(event_target_value(&e)); reset.set(0); }>
            <option value="">{format!("all {label}")}</option>
            {options.into_iter().map(|o| {
                let selected = value.get_untracked() == o;
                view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let me = expect_context::<MeResource>();
    let q = RwSignal::new(String::new());
    let series = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let license = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let offset = RwSignal::new(0i64);
    let opt = |s: String| (!s.is_empty()).then_some(s);
    let page = Resource::new(
        move || (q.get(), series.get(), category.get(), license.get(), source.get(), offset.get()),
        move |(q, se, c, l, so, off)| search_catalog(opt(q), opt(se), opt(c), opt(l), opt(so), Some(off)),
    );
    view! {
        <Title text="Module catalog"/>
        <h1>"Module catalog"</h1>
        <p class="muted">"Modules read from the catalog's repositories (OCA layout: a branch per Odoo series)."</p>
        <div class="row" id="catalog-filters">
            <input type="search" placeholder="search modules" aria-label="Search" id="catalog-search"
                on:input=move |e| { q.set(event_target_value(&e)); offset.set(0); }/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    page.await.ok().map(|p| view! {
                        {choice("series", p.series, series, offset)}
                        {choice("categories", p.categories, category, offset)}
                        {choice("licenses", p.licenses, license, offset)}
                        {choice("sources", p.sources, source, offset)}
                    })
                })}
            </Transition>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading the catalog…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(p) if p.total == 0 => view! {
                        <div class="empty" id="catalog-empty"><p>"No modules here yet."</p>
                            <p class="muted">"Platform staff add a source below; its modules appear once it is read."</p></div>
                    }.into_any(),
                    Ok(p) => {
                        let (total, at) = (p.total, offset.get_untracked());
                        view! {
                            <table class="table" id="catalog">
                                <thead><tr><th>"Module"</th><th>"Series"</th><th>"Version"</th><th>"Category"</th><th>"License"</th><th>"Source"</th></tr></thead>
                                <tbody>{p.modules.into_iter().map(|m| view! {
                                    <tr>
                                        <td><a href=format!("/catalog/modules/{}", m.name)>{m.name.clone()}</a>
                                            <div class="muted small">{if m.summary.is_empty() { m.title.clone() } else { m.summary.clone() }}</div>
                                            {m.problem.clone().map(|pr| view! { <div class="error small">{pr}</div> })}
                                            {(!m.installable).then(|| view! { <span class="badge badge-warn">"not installable"</span> })}</td>
                                        <td>{m.series.clone()}</td>
                                        <td class="small">{m.version.clone()}</td>
                                        <td class="small">{m.category.clone()}</td>
                                        <td class="small">{m.license.clone()}</td>
                                        <td class="small">{m.source.clone()}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                            <div class="row">
                                <button disabled=at == 0 on:click=move |_| offset.update(|o| *o = (*o - PER_PAGE).max(0))>"Previous"</button>
                                <span class="muted small" id="catalog-page">{page_text(at, PER_PAGE, total)}</span>
                                <button disabled={ at + PER_PAGE >= total } on:click=move |_| offset.update(|o| *o += PER_PAGE)>"Next"</button>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let staff = crate::models::is_platform_staff(me.await.ok().flatten().as_ref());
                staff.then(|| view! { <SourcesCard/> })
            })}
        </Transition>
    }
}

/// The catalog's sources, for platform staff: add, refresh, remove.
#[component]
fn SourcesCard() -> impl IntoView {
    let add = ServerAction::<AddSource>::new();
    let refresh = ServerAction::<RefreshSource>::new();
    let remove = ServerAction::<RemoveSource>::new();
    let sources = Resource::new(
        move || (add.version().get(), refresh.version().get(), remove.version().get()),
        |_| list_sources(),
    );
    let failed = Signal::derive(move || {
        add.value()
            .with(error_message)
            .or_else(|| refresh.value().with(error_message))
            .or_else(|| remove.value().with(error_message))
    });
    view! {
        <section class="card" id="catalog-sources">
            <h2>"Sources"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sources.await {
                        Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No source yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead><tr><th>"Name"</th><th>"Repository"</th><th>"Series"</th><th>"Modules"</th><th>"Read"</th><th></th></tr></thead>
                                <tbody>{list.into_iter().map(|s| view! {
                                    <tr>
                                        <td>{s.name.clone()}</td>
                                        <td class="small"><code>{s.repo_url.clone()}</code></td>
                                        <td>{s.series.join(", ")}</td>
                                        <td>{s.modules}</td>
                                        <td class="small">{if s.refresh_requested { "waiting…".to_owned() } else {
                                                s.refreshed_at.map(|t| crate::models::short_time(&t)).unwrap_or_default() }}
                                            {s.refresh_error.clone().map(|e| view! { <div class="error small">{e}</div> })}</td>
                                        <td class="row">
                                            <ActionForm action=refresh attr:class="inline">
                                                <input type="hidden" name="id" value=s.id.to_string()/>
                                                <button type="submit">"Refresh"</button>
                                            </ActionForm>
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="id" value=s.id.to_string()/>
                                                <label class="small"><input type="checkbox" required/>" sure"</label>
                                                <button type="submit" class="danger">"Remove"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=add attr:class="stack" attr:id="add-source">
                <label>"Name "<input name="name" placeholder="oca-server-tools" required/></label>
                <label>"Repository "<input name="repo_url" placeholder="https://github.com/OCA/server-tools.git" required/></label>
                <label>"Series "<input name="series" placeholder="17.0, 18.0" required/></label>
                <button type="submit">"Add source"</button>
            </ActionForm>
            <ActionError error=failed/>
        </section>
    }
}

#[component]
pub fn ModulePage() -> impl IntoView {
    let params = use_params_map();
    let module = Resource::new(move || params.with(|p| p.get("name").unwrap_or_default()), get_module);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the module…"</p> }>
            {move || Suspend::new(async move {
                match module.await {
                    Err(e) => view! { <h1>"Module"</h1><p class="error">{e.message}</p> }.into_any(),
                    Ok(m) => view! {
                        <Title text=m.name.clone()/>
                        <h1>{m.name.clone()}</h1>
                        <section class="card">
                            <h2>"By series"</h2>
                            <table class="table" id="module-versions">
                                <thead><tr><th>"Series"</th><th>"Version"</th><th>"Depends on"</th><th>"License"</th><th>"Needs"</th><th>"Source"</th></tr></thead>
                                <tbody>{m.versions.into_iter().map(|v| view! {
                                    <tr>
                                        <td>{v.series.clone()}</td>
                                        <td class="small">{v.version.clone()}
                                            {(!v.installable).then(|| view! { <span class="badge badge-warn">"not installable"</span> })}</td>
                                        <td class="small">{v.depends.iter().map(|d| view! { <a href=format!("/catalog/modules/{d}")>{d.clone()}</a>" " }).collect_view()}</td>
                                        <td class="small">{v.license.clone()}</td>
                                        <td class="small">{v.external_python.iter().map(|p| format!("python {p}")).chain(v.external_bin.iter().map(|b| format!("program {b}"))).collect::<Vec<_>>().join(", ")}</td>
                                        <td class="small">{v.source.clone()}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        </section>
                        <section class="card">
                            <h2>"Depended on by"</h2>
                            {if m.dependents.is_empty() { view! { <p class="muted">"No module of the catalog."</p> }.into_any() } else {
                                view! { <ul class="plain" id="module-dependents">{m.dependents.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}</ul> }.into_any() }}
                        </section>
                        <section class="card">
                            <h2>"Used by"</h2>
                            <ul class="plain" id="module-used-by">
                                {m.bundles.into_iter().map(|b| view! { <li>"bundle "<a href=format!("/bundles/{}", b.id)>{b.name.clone()}</a>" ("{b.series.clone()}")"</li> }).collect_view()}
                                {m.instances.into_iter().map(|i| view! { <li>"instance "<a href=format!("/instances/{}", i.id)>{i.name.clone()}</a>" ("{i.series.clone()}")"</li> }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
