//! The browser terminal: a `vt100` screen running in WASM, fed by the shell's
//! WebSocket and drawn as HTML once per animation frame. Keys, paste, wheel
//! scrollback and resizing are wired here; what they mean lives in
//! `models::terminal`, where plain tests reach it.

use crate::models::{shell_banner, shell_frame_class, short_time};
use domain::wire::ShellTicket;
use leptos::prelude::*;

#[component]
pub fn Terminal(ticket: ShellTicket) -> impl IntoView {
    let status = RwSignal::new("connecting…".to_string());
    let closed = RwSignal::new(false);
    let screen = NodeRef::<leptos::html::Pre>::new();
    let stage = ticket.stage;
    let heading = format!("Build #{} · {} · {}", ticket.build_number, ticket.branch, ticket.stage);
    let expires = short_time(&ticket.expires_at);
    let session_link = format!("/shells/{}", ticket.session_id);
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(_el) = screen.get() else { return };
        if started.get_value() {
            return;
        }
        started.set_value(true);
        #[cfg(target_arch = "wasm32")]
        live::attach(_el, ticket.clone(), status, closed);
    });
    view! {
        <div class=shell_frame_class(stage) id="terminal-frame" data-stage=stage.as_str()>
            {shell_banner(stage).map(|b| view! { <div class="term-banner" role="alert">{b}</div> })}
            <div class="term-bar">
                <span>{heading}</span>
                <span class="muted small">"closes at " {expires}</span>
                <span class="small" id="term-status" data-closed=move || closed.get().to_string()>{move || status.get()}</span>
                <a class="small" href=session_link target="_blank" rel="noopener">"Transcript"</a>
            </div>
            <pre class="term-screen" id="terminal" tabindex="0" aria-label="Terminal" node_ref=screen></pre>
            <span class="term-measure" id="term-measure" aria-hidden="true">"MMMMMMMMMM"</span>
        </div>
    }
}

#[cfg(target_arch = "wasm32")]
mod live {
    use crate::models::terminal::{grid_size, key_bytes, new_parser, paste_bytes, resize, screen_html, Key};
    use domain::wire::ShellTicket;
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    struct State {
        parser: vt100::Parser,
        ws: web_sys::WebSocket,
        frame_pending: bool,
        closed: bool,
        size: (u16, u16),
    }

    /// Columns and rows that fit the screen element, measured with a run of 10 cells.
    fn fit(pre: &web_sys::HtmlElement) -> (u16, u16) {
        let cell = document()
            .get_element_by_id("term-measure")
            .map(|m| m.get_bounding_client_rect())
            .map(|r| (r.width() / 10.0, r.height()))
            .unwrap_or((8.0, 17.0));
        grid_size(f64::from(pre.client_width()) - 8.0, f64::from(pre.client_height()) - 8.0, cell.0, cell.1)
    }

    fn listen<E: wasm_bindgen::convert::FromWasmAbi + 'static>(
        target: &web_sys::EventTarget,
        name: &str,
        f: impl FnMut(E) + 'static,
    ) {
        let cb = Closure::<dyn FnMut(E)>::new(f);
        let _ = target.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref());
        // The listener lives as long as the page.
        cb.forget();
    }

    pub fn attach(pre: web_sys::HtmlPreElement, t: ShellTicket, status: RwSignal<String>, closed: RwSignal<bool>) {
        let pre: web_sys::HtmlElement = pre.unchecked_into();
        let (cols, rows) = fit(&pre);
        let location = window().location();
        let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let url = format!("{scheme}://{host}{}?token={}&cols={cols}&rows={rows}", t.ws_path, t.token);
        let Ok(ws) = web_sys::WebSocket::new(&url) else {
            status.set("could not open the connection".into());
            return;
        };
        ws.set_binary_type(web_sys::BinaryType::Arraybuffer);
        let state = Rc::new(RefCell::new(State {
            parser: new_parser(rows, cols, 2000),
            ws: ws.clone(),
            frame_pending: false,
            closed: false,
            size: (cols, rows),
        }));

        // Draw at most once per frame, however many messages arrive.
        let draw: Rc<dyn Fn()> = {
            let state = state.clone();
            let pre = pre.clone();
            Rc::new(move || {
                if std::mem::replace(&mut state.borrow_mut().frame_pending, true) {
                    return;
                }
                let state = state.clone();
                let pre = pre.clone();
                let cb = Closure::once_into_js(move || {
                    let mut s = state.borrow_mut();
                    s.frame_pending = false;
                    pre.set_inner_html(&screen_html(s.parser.screen(), !s.closed));
                });
                let _ = window().request_animation_frame(cb.unchecked_ref());
            })
        };
        draw();

        {
            let state = state.clone();
            let draw = draw.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>() {
                    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
                    state.borrow_mut().parser.process(&bytes);
                    draw();
                } else if let Some(text) = e.data().as_string() {
                    let reason = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
                        .unwrap_or(text);
                    state.borrow_mut().closed = true;
                    status.set(format!("session {reason}"));
                    closed.set(true);
                    draw();
                }
            });
            ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
        }
        let on_open = Closure::<dyn FnMut()>::new(move || status.set("connected".into()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        {
            let state = state.clone();
            let draw = draw.clone();
            let on_close = Closure::<dyn FnMut()>::new(move || {
                let was_closed = std::mem::replace(&mut state.borrow_mut().closed, true);
                if !was_closed {
                    status.set("disconnected: the session is over; open a new shell".into());
                }
                closed.set(true);
                draw();
            });
            ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
            on_close.forget();
        }

        let send = {
            let state = state.clone();
            let draw = draw.clone();
            Rc::new(move |bytes: &[u8]| {
                let mut s = state.borrow_mut();
                if s.closed {
                    return;
                }
                if s.parser.screen().scrollback() > 0 {
                    s.parser.screen_mut().set_scrollback(0);
                    drop(s);
                    draw();
                    s = state.borrow_mut();
                }
                let _ = s.ws.send_with_u8_array(bytes);
            })
        };

        {
            let state = state.clone();
            let send = send.clone();
            listen(&pre, "keydown", move |e: web_sys::KeyboardEvent| {
                let key = e.key();
                let copying = (e.ctrl_key() && e.shift_key() && (key == "C" || key == "c"))
                    || (e.ctrl_key() && (key == "c" || key == "C") && has_selection());
                let pasting = e.ctrl_key() && e.shift_key() && (key == "V" || key == "v");
                if copying || pasting {
                    return; // the browser copies the selection, or fires `paste`
                }
                let k =
                    Key { key: &key, ctrl: e.ctrl_key(), alt: e.alt_key(), shift: e.shift_key(), meta: e.meta_key() };
                let app_cursor = state.borrow().parser.screen().application_cursor();
                if let Some(bytes) = key_bytes(k, app_cursor) {
                    e.prevent_default();
                    send(&bytes);
                }
            });
        }
        {
            let state = state.clone();
            let send = send.clone();
            listen(&pre, "paste", move |e: web_sys::ClipboardEvent| {
                e.prevent_default();
                let text = e.clipboard_data().and_then(|d| d.get_data("text").ok()).unwrap_or_default();
                let bracketed = state.borrow().parser.screen().bracketed_paste();
                send(&paste_bytes(&text, bracketed));
            });
        }
        {
            let state = state.clone();
            let draw = draw.clone();
            listen(&pre, "wheel", move |e: web_sys::WheelEvent| {
                let mut s = state.borrow_mut();
                if s.parser.screen().alternate_screen() {
                    return;
                }
                e.prevent_default();
                let now = s.parser.screen().scrollback();
                let step = 3usize;
                let next = if e.delta_y() < 0.0 { now + step } else { now.saturating_sub(step) };
                s.parser.screen_mut().set_scrollback(next);
                drop(s);
                draw();
            });
        }
        {
            let pre2 = pre.clone();
            listen(&pre, "click", move |_: web_sys::MouseEvent| {
                if !has_selection() {
                    let _ = pre2.focus();
                }
            });
        }
        {
            let state = state.clone();
            let draw = draw.clone();
            let pre2 = pre.clone();
            listen(&window(), "resize", move |_: web_sys::UiEvent| {
                let (cols, rows) = fit(&pre2);
                let mut s = state.borrow_mut();
                if s.size == (cols, rows) || s.closed {
                    return;
                }
                s.size = (cols, rows);
                resize(&mut s.parser, rows, cols);
                let msg = serde_json::json!({"type": "resize", "cols": cols, "rows": rows}).to_string();
                let _ = s.ws.send_with_str(&msg);
                drop(s);
                draw();
            });
        }
        {
            // Leaving the page ends the session now, not when the browser gets round to it.
            let ws = ws.clone();
            listen(&window(), "pagehide", move |_: web_sys::Event| {
                let _ = ws.close();
            });
        }
        let _ = pre.focus();
        let socket = send_wrapper::SendWrapper::new(ws);
        on_cleanup(move || {
            let _ = socket.close();
        });
    }

    fn has_selection() -> bool {
        window().get_selection().ok().flatten().and_then(|s| s.to_string().as_string()).is_some_and(|s| !s.is_empty())
    }
}
