//! The live log tail of a build: a WebSocket feeds events as they are
//! stored; filters by level, source and text; pause/resume; CSV export. It
//! follows new lines while scrolled to the bottom (scrolling up stops that,
//! "Follow" resumes it), and says when the build has finished.
//! Only the last lines of the filtered view are rendered, so a 10k+ line log
//! does not freeze the tab (the export has them all).

use crate::models::{events_csv, filter_events, level_class, sources};
use domain::wire::RunEventView;
use leptos::prelude::*;

/// How many lines of the filtered view are in the DOM.
const RENDERED: usize = 1000;

#[component]
pub fn LogTail(
    build_id: uuid::Uuid,
    events: RwSignal<Vec<RunEventView>>,
    /// Whether the build has finished: then nothing more arrives, and the tail says so.
    #[prop(optional, into)]
    done: Option<Signal<bool>>,
) -> impl IntoView {
    let done = done.unwrap_or_else(|| Signal::stored(false));
    let paused = RwSignal::new(false);
    let follow = RwSignal::new(true);
    let box_ref = NodeRef::<leptos::html::Div>::new();
    // After each change of the lines, the newest is scrolled into view while following.
    Effect::new(move |_| {
        events.track();
        if follow.get() {
            if let Some(el) = box_ref.get() {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = box_ref.get_untracked() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 24;
            if follow.get_untracked() != at_bottom {
                follow.set(at_bottom);
            }
        }
    };
    let held: RwSignal<Vec<RunEventView>> = RwSignal::new(Vec::new());
    let level = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let status = RwSignal::new("connecting…".to_string());

    Effect::new(move |_| {
        #[cfg(target_arch = "wasm32")]
        connect(build_id, events, held, paused, status);
        #[cfg(not(target_arch = "wasm32"))]
        let _ = (build_id, held);
    });

    let resume = move |_| {
        paused.set(false);
        let buffered = held.try_update(std::mem::take).unwrap_or_default();
        events.update(|v| v.extend(buffered));
    };
    let export = move |_| {
        let csv = events.with(|all| events_csv(&filter_events(all, &level.get(), &source.get(), &query.get())));
        #[cfg(target_arch = "wasm32")]
        download(&format!("build-{build_id}.csv"), &csv);
        #[cfg(not(target_arch = "wasm32"))]
        let _ = csv;
    };

    view! {
        <div class="logtail">
            <div class="row logtail-bar">
                <select aria-label="Level" on:change=move |e| level.set(event_target_value(&e))>
                    <option value="">"All levels"</option>
                    <option value="info">"Info and above"</option>
                    <option value="warning">"Warnings and errors"</option>
                    <option value="error">"Errors"</option>
                </select>
                <select aria-label="Source" on:change=move |e| source.set(event_target_value(&e))>
                    <option value="">"All sources"</option>
                    {move || events.with(|all| sources(all)).into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                </select>
                <input type="search" placeholder="Search the log" aria-label="Search" on:input=move |e| query.set(event_target_value(&e))/>
                <Show when=move || !done.get()>
                    <Show when=move || paused.get() fallback=move || view! {
                        <button type="button" id="pause-log" on:click=move |_| paused.set(true)>"Pause"</button>
                    }>
                        <button type="button" id="resume-log" on:click=resume>
                            "Resume (" {move || held.with(Vec::len)} " new)"
                        </button>
                    </Show>
                </Show>
                <Show when=move || !follow.get()>
                    <button type="button" id="follow-log" on:click=move |_| follow.set(true)>"Follow ↓"</button>
                </Show>
                <button type="button" on:click=export>"Export CSV"</button>
                <span class="muted small" id="log-status">{move || if done.get() { "finished".to_owned() } else { status.get() }}</span>
            </div>
            <div class="logtail-lines" id="log-lines" node_ref=box_ref on:scroll=on_scroll>
                {move || events.with(|all| {
                    let shown = filter_events(all, &level.get(), &source.get(), &query.get());
                    let total = shown.len();
                    if total == 0 && !all.is_empty() {
                        return view! { <div class="muted small" id="log-no-match">"No line matches these filters."</div> }.into_any();
                    }
                    let skip = total.saturating_sub(RENDERED);
                    let note = (skip > 0).then(|| view! {
                        <div class="muted small">{format!("{skip} earlier lines hidden; export to see them all")}</div>
                    });
                    let lines = shown[skip..].iter().map(|e| view! {
                        <div class=format!("logline {}", level_class(&e.level))>
                            <span class="log-time">{e.created_at.format("%H:%M:%S").to_string()}</span>
                            <span class="log-source">{e.source.clone()}</span>
                            <span class="log-msg">{e.message.clone()}</span>
                        </div>
                    }).collect_view();
                    view! { {note} {lines} }.into_any()
                })}
            </div>
        </div>
    }
}

#[cfg(target_arch = "wasm32")]
fn connect(
    build_id: uuid::Uuid,
    events: RwSignal<Vec<RunEventView>>,
    held: RwSignal<Vec<RunEventView>>,
    paused: RwSignal<bool>,
    status: RwSignal<String>,
) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let location = window().location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
    let host = location.host().unwrap_or_default();
    let after = events.with_untracked(|v| v.last().map(|e| e.id).unwrap_or(0));
    let url = format!("{scheme}://{host}/api/v1/builds/{build_id}/events/ws?after={after}");
    let Ok(ws) = web_sys::WebSocket::new(&url) else {
        status.set("could not open the live connection".into());
        return;
    };
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        let Ok(batch) = serde_json::from_str::<Vec<RunEventView>>(&text) else { return };
        if paused.get_untracked() {
            held.update(|h| h.extend(batch));
        } else {
            events.update(|v| v.extend(batch));
        }
    });
    let on_open = Closure::<dyn FnMut()>::new(move || status.set("live".into()));
    let on_close = Closure::<dyn FnMut()>::new(move || status.set("disconnected; reload to reconnect".into()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket owns its handlers for as long as it lives.
    on_message.forget();
    on_open.forget();
    on_close.forget();
    let socket = send_wrapper::SendWrapper::new(ws);
    on_cleanup(move || {
        let _ = socket.close();
    });
}

#[cfg(target_arch = "wasm32")]
fn download(name: &str, text: &str) {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/csv");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Ok(a) = document().create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
