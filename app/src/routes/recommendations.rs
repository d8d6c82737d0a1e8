//! The recommendations console (`/ai-console`): rule-based findings over the
//! fleet — instances near their storage quota, failing backups, idle
//! instances, modules with no version for the next series — each with the
//! action that fixes it and a link to where to take it.

use crate::functions::fleet::fleet_findings;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn RecommendationsPage() -> impl IntoView {
    let findings = Resource::new(|| (), |_| fleet_findings());
    view! {
        <Title text="Recommendations"/>
        <h1>"Recommendations"</h1>
        <p class="muted">"Findings over the instances you can see, from fixed rules: storage near the plan's limit, \
            a failing latest backup, 30 days without activity, modules the catalog has no next-series version of."</p>
        <Transition fallback=|| view! { <p class="muted">"Looking over the fleet…"</p> }>
            {move || Suspend::new(async move {
                match findings.await {
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty" id="findings-empty"><p>"Nothing to recommend: every instance looks healthy."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table class="table" id="findings">
                            <thead><tr><th>"Severity"</th><th>"Instance"</th><th>"Finding"</th><th>"What to do"</th></tr></thead>
                            <tbody>{list.into_iter().map(|f| view! {
                                <tr>
                                    <td><span class=if f.severity == "error" { "badge badge-ko" } else { "badge badge-warn" }>{f.severity.clone()}</span></td>
                                    <td>{f.instance.clone()}" "<span class="muted small">{f.tenant_slug.clone()}</span></td>
                                    <td>{f.message.clone()}</td>
                                    <td><a href=f.href.clone()>{f.action.clone()}</a></td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table></div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
