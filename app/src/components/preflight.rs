//! A build's preflight gates on its page: each gate's verdict, reason,
//! figure and what to do, and whether the project accepted or waived it.

use domain::types::{GateResult, Verdict};
use leptos::prelude::*;

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "badge badge-ok",
        Verdict::Warn => "badge badge-warn",
        Verdict::Fail => "badge badge-ko",
    }
}

#[component]
pub fn PreflightCard(results: Vec<GateResult>) -> impl IntoView {
    if results.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card" id="preflight">
            <h2>"Preflight"</h2>
            <table class="table small">
                <thead><tr><th>"Gate"</th><th>"Verdict"</th><th>"Why"</th></tr></thead>
                <tbody>
                    {results.into_iter().map(|r| {
                        let effective = r.effective();
                        let remedy = (r.verdict != Verdict::Pass).then(|| r.gate.remedy());
                        view! {
                            <tr class=format!("gate-{} gate-{}", r.gate.as_str(), effective.as_str())>
                                <td>{r.gate.title()}</td>
                                <td><span class=verdict_class(r.verdict)>{r.verdict.as_str()}</span></td>
                                <td>
                                    {r.reason.clone()}
                                    {r.overridden.clone().map(|o| view! { <br/><span class="muted">{o}</span> })}
                                    {remedy.map(|m| view! { <br/><span class="muted">"What to do: "{m}</span> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}
