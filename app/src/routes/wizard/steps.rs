//! The wizard's first four steps: Identity (with the slug's live
//! availability), Plan (from the plan catalog), Bundle (bundles and single
//! modules, with their closure for the series) and Infra (series, size,
//! database strategy with the recommendation and its reason, backups).

use super::fields::{FieldMessage, SelectField, TextField};
use super::Wiz;
use crate::functions::catalog::list_bundles;
use crate::functions::instances::list_plans;
use crate::functions::wizard::{slug_available, wizard_closure};
use crate::models::wizard::{monthly_price, plan_limits};
use crate::routes::bundles::ClosureView;
use domain::types::{size_summary, Closure, DbStrategy, OdooVersion, Slug, SIZE_PROFILES};
use leptos::prelude::*;

#[component]
pub(crate) fn IdentityStep(w: Wiz) -> impl IntoView {
    // The slug follows the name while it is empty or still the one the name gave.
    Effect::new(move |previous: Option<String>| {
        let name = w.data.with(|d| d.identity.organisation.clone());
        if let Some(previous) = previous.filter(|p| *p != name) {
            let (slug, given) = (w.data.with_untracked(|d| d.identity.slug.clone()), Slug::from_name(&previous, "org"));
            if (slug.trim().is_empty() || slug == given.as_str()) && !name.trim().is_empty() {
                w.data.update(|d| d.identity.slug = Slug::from_name(&name, "org").to_string());
            }
        }
        name
    });
    let slug = Memo::new(move |_| w.data.with(|d| d.identity.slug.trim().to_owned()));
    let free = Resource::new(
        move || slug.get(),
        |s| async move {
            if Slug::parse(&s).is_err() {
                None
            } else {
                slug_available(s).await.ok()
            }
        },
    );
    view! {
        <h2>"Identity"</h2>
        <div class="form-grid">
            <TextField w=w label="Organisation" name="organisation" placeholder="Acme Belgium"
                get=|d| d.identity.organisation.clone() set=|d, v| d.identity.organisation = v/>
            <div>
                <TextField w=w label="Slug" name="slug" hint="its address: <slug>.<instances domain>"
                    get=|d| d.identity.slug.clone() set=|d, v| d.identity.slug = v/>
                <Transition fallback=|| ()>
                    {move || free.get().flatten().map(|ok| if ok {
                        view! { <span class="ok small" id="slug-free">"Available."</span> }.into_any()
                    } else {
                        view! { <span class="error small" id="slug-taken">"Taken; choose another."</span> }.into_any()
                    })}
                </Transition>
            </div>
            <TextField w=w label="Contact email" name="contact_email" kind="email" placeholder="it@acme.example"
                hint="also the login of the first instance's admin"
                get=|d| d.identity.contact_email.clone() set=|d, v| d.identity.contact_email = v/>
            <TextField w=w label="Country" name="country" placeholder="BE" hint="two letters" list="countries"
                get=|d| d.identity.country.clone() set=|d, v| d.identity.country = v/>
            <TextField w=w label="Language" name="language" placeholder="fr_BE" list="languages"
                get=|d| d.identity.language.clone() set=|d, v| d.identity.language = v/>
            <TextField w=w label="Time zone" name="timezone" placeholder="Europe/Brussels" list="timezones"
                get=|d| d.identity.timezone.clone() set=|d, v| d.identity.timezone = v/>
            <TextField w=w label="Region" name="region" placeholder="eu-west" hint="optional"
                get=|d| d.identity.region.clone() set=|d, v| d.identity.region = v/>
            <TextField w=w label="Groups" name="groups" placeholder="retail, pilot" hint="optional, separated by commas"
                get=|d| d.identity.groups.clone() set=|d, v| d.identity.groups = v/>
        </div>
        <datalist id="countries">{["BE", "FR", "NL", "LU", "DE", "CH", "GB", "US", "CA", "ES", "IT"].map(|c| view! { <option value=c/> }).collect_view()}</datalist>
        <datalist id="languages">{["en_US", "en_GB", "fr_FR", "fr_BE", "nl_BE", "nl_NL", "de_DE", "es_ES", "it_IT"].map(|c| view! { <option value=c/> }).collect_view()}</datalist>
        <datalist id="timezones">{["UTC", "Europe/Brussels", "Europe/Paris", "Europe/London", "Europe/Berlin", "America/New_York", "America/Montreal"].map(|c| view! { <option value=c/> }).collect_view()}</datalist>
    }
}

#[component]
pub(crate) fn PlanStep(w: Wiz) -> impl IntoView {
    let plans = Resource::new(|| (), |_| list_plans());
    view! {
        <h2>"Plan"</h2>
        <p class="muted small">"What the tenant's instances may use. OdooOps processes no payment: the subscription is \
            recorded with the manual billing provider, and the platform team invoices."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading plans…"</p> }>
            {move || Suspend::new(async move {
                match plans.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No plan exists yet; platform owners add them."</p> }.into_any(),
                    Ok(list) => view! {
                        <fieldset class="choices" id="plans" aria-describedby="e-plan">
                            <legend class="sr-only">"Plan"</legend>
                            {list.into_iter().map(|p| {
                                let slug = p.slug.clone();
                                let checked = { let slug = slug.clone(); Memo::new(move |_| w.data.with(|d| d.plan == slug)) };
                                view! {
                                    <label class="choice" class:chosen=checked>
                                        <input type="radio" name="plan" value=slug.clone() prop:checked=checked
                                            on:change=move |_| { let s = slug.clone(); w.data.update(|d| d.plan = s); w.touch("plan"); }/>
                                        <strong>{p.name.clone()}</strong>
                                        <span>{monthly_price(p.monthly_price_cents)}</span>
                                        <span class="muted small">{plan_limits(&p)}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    }.into_any(),
                }
            })}
        </Transition>
        <FieldMessage w=w name="plan"/>
    }
}

fn series_options() -> Vec<(String, String)> {
    OdooVersion::SUPPORTED.iter().map(|v| (v.to_string(), format!("Odoo {v}"))).collect()
}

#[component]
pub(crate) fn BundleStep(w: Wiz) -> impl IntoView {
    let series = Memo::new(move |_| w.data.with(|d| d.infra.series.clone()));
    let bundles = Resource::new(move || series.get(), |s| list_bundles(Some(s)));
    let choice = Memo::new(move |_| w.data.with(|d| d.bundle.clone()));
    let closure = Resource::new(
        move || (series.get(), choice.get()),
        |(s, c)| async move {
            // Nothing chosen, or a list that does not parse (its error shows by the field).
            if (c.bundles.is_empty() && c.modules.trim().is_empty()) || !c.errors().is_empty() {
                Ok(Closure::default())
            } else {
                wizard_closure(s, c.bundles, c.modules).await
            }
        },
    );
    Effect::new(move |_| {
        let blocked = match closure.get() {
            Some(Ok(c)) => !c.is_valid(),
            Some(Err(_)) => true,
            None => false,
        };
        w.blocked.set(blocked);
    });
    view! {
        <h2>"Bundle"</h2>
        <SelectField w=w label="Odoo series" name="series" options=Signal::derive(series_options)
            get=|d| d.infra.series.clone()
            set=|d, v| { d.infra.series = v; d.bundle.bundles.clear(); }/>
        <Transition fallback=|| view! { <p class="muted">"Loading bundles…"</p> }>
            {move || Suspend::new(async move {
                match bundles.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted" id="no-bundles">"No bundle for this series yet: pick single modules below, or none."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <fieldset class="choices" id="wizard-bundles">
                            <legend>"Bundles"</legend>
                            {list.into_iter().map(|b| {
                                let id = b.id;
                                let checked = move || w.data.with(|d| d.bundle.bundles.contains(&id));
                                view! {
                                    <label class="choice" class:chosen=checked>
                                        <input type="checkbox" value=id.to_string() prop:checked=checked
                                            on:change=move |e| {
                                                let on = event_target_checked(&e);
                                                w.data.update(|d| {
                                                    d.bundle.bundles.retain(|x| *x != id);
                                                    if on { d.bundle.bundles.push(id); }
                                                });
                                                w.touch("bundles");
                                            }/>
                                        <strong>{b.name.clone()}</strong>
                                        <span class="muted small">{b.modules.join(", ")}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </fieldset>
                    }.into_any(),
                }
            })}
        </Transition>
        <label>"Single modules" <small class="muted">"separated by commas or spaces"</small>
            <textarea name="modules" id="f-modules" rows="2" placeholder="partner_firstname"
                aria-invalid=move || super::fields::shown_error(w, "modules").map(|_| "true")
                aria-describedby="e-modules"
                prop:value=move || w.data.with(|d| d.bundle.modules.clone())
                on:input=move |e| { let v = event_target_value(&e); w.data.update(|d| d.bundle.modules = v); w.touch("modules"); }>
            </textarea>
        </label>
        <FieldMessage w=w name="modules"/>
        <h3>"What will be installed"</h3>
        <Transition fallback=|| view! { <p class="muted small">"Computing the closure…"</p> }>
            {move || Suspend::new(async move {
                match closure.await {
                    Err(e) => view! { <p class="error small">{e.message}</p> }.into_any(),
                    Ok(c) if c.modules.is_empty() && c.missing.is_empty() => view! {
                        <p class="muted small" id="bundle-closure">"Odoo's base modules only."</p>
                    }.into_any(),
                    Ok(c) => view! { <ClosureView c=c/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub(crate) fn InfraStep(w: Wiz) -> impl IntoView {
    let sizes = || SIZE_PROFILES.iter().map(|s| (s.to_string(), format!("{s} — {}", size_summary(s)))).collect();
    let strategies = Signal::derive(move || {
        let (rec, why) = w.data.with(|d| d.infra.recommendation(&d.plan));
        vec![
            (String::new(), format!("Recommended: {rec} ({why})")),
            (DbStrategy::Shared.as_str().to_owned(), "Shared PostgreSQL server".to_owned()),
            (DbStrategy::Dedicated.as_str().to_owned(), "A PostgreSQL server of its own".to_owned()),
        ]
    });
    view! {
        <h2>"Infrastructure"</h2>
        <div class="form-grid">
            <SelectField w=w label="Odoo series" name="series" options=Signal::derive(series_options)
                get=|d| d.infra.series.clone()
                set=|d, v| { d.infra.series = v; d.bundle.bundles.clear(); }/>
            <SelectField w=w label="Size" name="size" options=Signal::derive(sizes)
                get=|d| d.infra.size.clone() set=|d, v| d.infra.size = v/>
            <SelectField w=w label="Database" name="db_strategy" options=strategies
                get=|d| d.infra.db_strategy.clone() set=|d, v| d.infra.db_strategy = v/>
            <SelectField w=w label="Backups" name="backups"
                options=Signal::derive(|| vec![("daily".into(), "Daily (03:00 UTC)".into()), ("hourly".into(), "Hourly".into())])
                get=|d| d.infra.backups.clone() set=|d, v| d.infra.backups = v/>
        </div>
        <p class="muted small" id="strategy-reason">{move || {
            let (rec, why) = w.data.with(|d| d.infra.recommendation(&d.plan));
            format!("The recommendation is the {rec} server: {why}.")
        }}</p>
    }
}
