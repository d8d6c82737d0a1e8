//! The Supabase kit dialog: a modal over a tenant's or project's page (also
//! opened by `?kit=<tab>`) that manages the linked Supabase project through
//! `/api/supabase-proxy` — the browser never holds the token; the proxy
//! decides what passes. In local mode (a build's page) the same dialog works
//! on the build's own database and log. Esc closes it and Tab stays inside it.

use crate::components::kit_tabs::{AdvisorsTab, AuthTab, DatabaseTab, JsonTable, LogsTab, SchemaTab};
use crate::models::kit::{kit_url, KitTarget};
use leptos::html::Div;
use leptos::prelude::*;
use serde_json::Value;

/// Calls the proxy from the browser: the JSON answer, or the message to show.
pub async fn kit_fetch(method: &'static str, url: String, body: Option<Value>) -> Result<Value, String> {
    #[cfg(target_arch = "wasm32")]
    {
        use gloo_net::http::Request;
        let builder = if method == "POST" { Request::post(&url) } else { Request::get(&url) };
        let req = match body {
            Some(b) => builder.json(&b).map_err(|e| e.to_string())?,
            None => builder.build().map_err(|e| e.to_string())?,
        };
        let resp = req.send().await.map_err(|_| "the console did not answer".to_owned())?;
        let status = resp.status();
        let retry = resp.headers().get("retry-after");
        let text = resp.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        match status {
            200..=299 => Ok(value),
            429 => {
                Err(format!("Supabase asks to wait {} s before the next call", retry.unwrap_or_else(|| "a few".into())))
            }
            _ => Err(value
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("the call failed ({status})"))),
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (method, url, body);
        Err("the kit runs in the browser".into())
    }
}

/// A GET through the proxy, loaded in the browser when its tab shows.
pub fn kit_get(reference: String, rest: &'static str) -> LocalResource<Result<Value, String>> {
    LocalResource::new(move || {
        let url = kit_url(&reference, rest);
        async move { kit_fetch("GET", url, None).await }
    })
}

/// Keeps Tab and Shift+Tab among the dialog's own controls.
pub(crate) fn trap_tab(dialog: NodeRef<Div>, e: &web_sys::KeyboardEvent) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let Some(root) = dialog.get() else { return };
        let Ok(list) = root.query_selector_all("button, [href], input, select, textarea, [tabindex='0']") else {
            return;
        };
        let (first, last) = (list.item(0), list.item(list.length().saturating_sub(1)));
        let active = document().active_element();
        let at = |n: &Option<web_sys::Node>| match (n, &active) {
            (Some(n), Some(a)) => n.is_same_node(Some(a.unchecked_ref())),
            _ => false,
        };
        let target = if e.shift_key() && at(&first) {
            last
        } else if !e.shift_key() && at(&last) {
            first
        } else {
            None
        };
        if let Some(el) = target.and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) {
            e.prevent_default();
            let _ = el.focus();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (dialog, e);
}

#[component]
pub fn KitDialog(
    target: KitTarget,
    /// Whether the caller may write (the proxy checks again).
    writes: bool,
    open: RwSignal<bool>,
    tab: RwSignal<&'static str>,
) -> impl IntoView {
    let dialog = NodeRef::<Div>::new();
    Effect::new(move |_| {
        if let (true, Some(el)) = (open.get(), dialog.get()) {
            let _ = el.focus();
        }
    });
    view! {
        <Show when=move || open.get()>
            <div class="modal-backdrop" on:click=move |e| {
                if e.target() == e.current_target() { open.set(false) }
            }>
                <div class="modal kit" role="dialog" aria-modal="true" aria-labelledby="kit-title" id="kit-dialog"
                    tabindex="-1" node_ref=dialog
                    on:keydown=move |e| match e.key().as_str() {
                        "Escape" => open.set(false),
                        "Tab" => trap_tab(dialog, &e),
                        _ => {}
                    }>
                    <div class="page-head">
                        <h2 id="kit-title">{match &target {
                            KitTarget::Supabase(r) => view! { "Supabase "<code>{r.clone()}</code> }.into_any(),
                            KitTarget::Local(_) => view! { "This build's database" }.into_any(),
                        }}</h2>
                        <button type="button" class="link" id="kit-close" on:click=move |_| open.set(false)>"Close"</button>
                    </div>
                    <nav class="tabs" aria-label="Supabase">
                        {target.tabs().iter().map(|(k, label)| view! {
                            <button type="button" class="tab" id=format!("kit-tab-{k}")
                                aria-current=move || (tab.get() == *k).then_some("page")
                                on:click=move |_| tab.set(k)>{*label}</button>
                        }).collect_view()}
                    </nav>
                    {
                        let target = target.clone();
                        move || {
                            let t = target.clone();
                            let r = match &t {
                                KitTarget::Supabase(r) => r.clone(),
                                KitTarget::Local(_) => String::new(),
                            };
                            match t.tab(tab.get()) {
                                "schema" => view! { <SchemaTab target=t/> }.into_any(),
                                "auth" => view! { <AuthTab reference=r/> }.into_any(),
                                "storage" => view! { <JsonTable data=kit_get(r, "/storage/buckets") id="kit-buckets" empty="No bucket."/> }.into_any(),
                                "secrets" => view! {
                                    <p class="muted small">"Names and SHA-256 digests: a value never leaves the console."</p>
                                    <JsonTable data=kit_get(r, "/secrets") id="kit-secrets" empty="No secret."/>
                                }.into_any(),
                                "logs" => view! { <LogsTab target=t/> }.into_any(),
                                "advisors" => view! { <AdvisorsTab reference=r/> }.into_any(),
                                _ => view! { <DatabaseTab target=t writes=writes/> }.into_any(),
                            }
                        }
                    }
                </div>
            </div>
        </Show>
    }
}
