//! A build's preflight gates on its page: each gate's verdict, reason,
//! figure and what to do, and whether the project accepted or waived it.
//! Project admins accept a warning and platform staff waive a failure here,
//! with a reason (the server checks again; it applies from the next build).

use crate::components::forms::{error_message, ActionError};
use crate::functions::builds::PreflightOverride;
use domain::types::{GateResult, Verdict};
use leptos::prelude::*;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "badge badge-ok",
        Verdict::Warn => "badge badge-warn",
        Verdict::Fail => "badge badge-ko",
    }
}

/// Which answer the caller may give to a result: accept (a warning, project admins) or waive (platform staff).
fn answer(r: &GateResult, project_admin: bool, staff: bool) -> Option<bool> {
    if r.overridden.is_some() || r.verdict == Verdict::Pass {
        return None;
    }
    if staff {
        return Some(true);
    }
    (project_admin && r.verdict == Verdict::Warn).then_some(false)
}

#[component]
pub fn PreflightCard(
    results: Vec<GateResult>,
    project_id: uuid::Uuid,
    /// Whether the caller administers the project (accepts warnings).
    project_admin: bool,
) -> impl IntoView {
    if results.is_empty() {
        return ().into_any();
    }
    let me = use_context::<crate::MeResource>();
    let save = ServerAction::<PreflightOverride>::new();
    view! {
        <section class="card" id="preflight">
            <h2>"Preflight"</h2>
            <Transition fallback=|| ()>
                {move || {
                    let results = results.clone();
                    Suspend::new(async move {
                        let staff = match me {
                            Some(me) => crate::models::is_platform_staff(me.await.ok().flatten().as_ref()),
                            None => false,
                        };
                        view! {
                            <table class="table small">
                                <thead><tr><th>"Gate"</th><th>"Verdict"</th><th>"Why"</th></tr></thead>
                                <tbody>
                                    {results.into_iter().map(|r| {
                                        let effective = r.effective();
                                        let remedy = (r.verdict != Verdict::Pass).then(|| r.gate.remedy());
                                        let form = answer(&r, project_admin, staff).map(|waive| view! {
                                            <ActionForm action=save attr:class="row small preflight-answer">
                                                <input type="hidden" name="project_id" value=project_id.to_string()/>
                                                <input type="hidden" name="gate" value=r.gate.as_str()/>
                                                <input type="hidden" name="waive" value=waive.to_string()/>
                                                <input name="reason" required maxlength="500" placeholder="Why" aria-label="Why"/>
                                                <button type="submit">{if waive { "Waive for this project" } else { "Accept for this project" }}</button>
                                            </ActionForm>
                                        });
                                        view! {
                                            <tr class=format!("gate-{} gate-{}", r.gate.as_str(), effective.as_str())>
                                                <td>{r.gate.title()}</td>
                                                <td><span class=verdict_class(r.verdict)>{r.verdict.as_str()}</span></td>
                                                <td>
                                                    {r.reason.clone()}
                                                    {r.overridden.clone().map(|o| view! { <br/><span class="muted">{o}</span> })}
                                                    {remedy.map(|m| view! { <br/><span class="muted">"What to do: "{m}</span> })}
                                                    {form}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }
                    })
                }}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p class="small" id="preflight-saved">"Saved: it applies from the next build."</p> }.into_any(),
                Err(_) => ().into_any(),
            })}
            <ActionError error=Signal::derive(move || save.value().with(error_message))/>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::types::Gate;

    #[test]
    fn admins_accept_warnings_and_staff_waive_failures() {
        let warn = GateResult::warn(Gate::LongConnections, "x");
        let fail = GateResult::fail(Gate::Extensions, "y");
        assert_eq!(answer(&warn, true, false), Some(false));
        assert_eq!(answer(&fail, true, false), None, "an admin cannot waive a failure");
        assert_eq!(answer(&fail, false, true), Some(true));
        let mut done = fail.clone();
        done.overridden = Some("waived".into());
        assert_eq!(answer(&done, true, true), None);
        assert_eq!(answer(&GateResult::pass(Gate::SmtpPorts, "ok"), true, true), None);
    }
}
