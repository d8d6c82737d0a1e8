//! A shell on a build (`/builds/:id/shell`), and one session's record with
//! its transcript replayed (`/shells/:id`).

use crate::components::terminal::Terminal;
use crate::components::when::When;
use crate::functions::shells::{shell_transcript, OpenShell};
use crate::models::terminal::{new_parser, resize, screen_html};
use crate::models::{human_bytes, shell_frame_class, short_time, stage_class};
use base64::Engine as _;
use domain::wire::TranscriptEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Opens a session as soon as the page runs in the browser (never during
/// server rendering, so a prefetch or a crawler opens nothing).
#[component]
pub fn ShellPage() -> impl IntoView {
    let params = use_params_map();
    let build = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let open = ServerAction::<OpenShell>::new();
    Effect::new(move |_| {
        if let Some(id) = build() {
            open.dispatch(OpenShell { build_id: id });
        }
    });
    view! {
        <Title text="Shell"/>
        {move || match open.value().get() {
            None => view! { <p class="muted">"Opening a shell…"</p> }.into_any(),
            Some(Err(e)) => view! {
                <h1>"Shell"</h1>
                <p class="error" id="shell-error">{e.message}</p>
                <p><a href=move || build().map(|b| format!("/builds/{b}")).unwrap_or_default()>"Back to the build"</a></p>
            }.into_any(),
            Some(Ok(ticket)) => view! {
                <Terminal ticket=ticket/>
                <p class="row">
                    <button type="button" id="new-shell" on:click=move |_| {
                        if let Some(id) = build() { open.dispatch(OpenShell { build_id: id }); }
                    }>"Open a new shell"</button>
                    <a href=move || build().map(|b| format!("/builds/{b}")).unwrap_or_default()>"Back to the build"</a>
                </p>
            }.into_any(),
        }}
    }
}

/// Replays output events into a terminal of the session's sizes; `upto` events.
fn replay(events: &[TranscriptEvent], upto: usize) -> String {
    let mut parser = new_parser(24, 80, 0);
    for e in &events[..upto.min(events.len())] {
        let Ok(data) = base64::engine::general_purpose::STANDARD.decode(&e.data_b64) else { continue };
        match e.direction.as_str() {
            "out" => parser.process(&data),
            "resize" => {
                let text = String::from_utf8_lossy(&data);
                if let Some((c, r)) = text.split_once('x') {
                    if let (Ok(c), Ok(r)) = (c.parse(), r.parse()) {
                        resize(&mut parser, r, c);
                    }
                }
            }
            _ => {}
        }
    }
    screen_html(parser.screen(), false)
}

/// What was typed, as readable lines (control characters shown as `^X`).
fn typed_lines(events: &[TranscriptEvent]) -> Vec<(i64, String)> {
    events
        .iter()
        .filter(|e| e.direction == "in" || e.direction == "note")
        .filter_map(|e| {
            let data = base64::engine::general_purpose::STANDARD.decode(&e.data_b64).ok()?;
            let text: String = String::from_utf8_lossy(&data)
                .chars()
                .map(|c| match c {
                    '\r' => "⏎".to_string(),
                    c if c.is_control() => format!("^{}", ((c as u8) ^ 0x40) as char),
                    c => c.to_string(),
                })
                .collect();
            Some((e.at_ms, if e.direction == "note" { format!("— {text}") } else { text }))
        })
        .collect()
}

#[component]
pub fn ShellSessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<uuid::Uuid>().ok()));
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => shell_transcript(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="Shell session"/>
        <h1>"Shell session"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="error">{e.message}</p> }.into_any(),
                    Ok(None) => view! { <p class="error">"No such session."</p> }.into_any(),
                    Ok(Some((s, events))) => {
                        let total = events.len();
                        let shown = RwSignal::new(total);
                        let playing = RwSignal::new(false);
                        let events = StoredValue::new(events);
                        let html = Memo::new(move |_| events.with_value(|ev| replay(ev, shown.get())));
                        let typed = events.with_value(|ev| typed_lines(ev));
                        // Plays the recording back at its own pace (gaps capped at one second).
                        let step = move || {
                            fn next(events: StoredValue<Vec<TranscriptEvent>>, shown: RwSignal<usize>, playing: RwSignal<bool>) {
                                let i = shown.get_untracked();
                                let total = events.with_value(Vec::len);
                                if !playing.get_untracked() || i >= total {
                                    playing.set(false);
                                    return;
                                }
                                shown.set(i + 1);
                                let gap = events.with_value(|ev| {
                                    ev.get(i + 1).map(|n| (n.at_ms - ev[i].at_ms).clamp(0, 1000)).unwrap_or(0)
                                });
                                set_timeout(move || next(events, shown, playing), std::time::Duration::from_millis(gap as u64));
                            }
                            next(events, shown, playing)
                        };
                        view! {
                            <dl class="facts" id="session-facts">
                                <dt>"Who"</dt><dd>{s.user_email.clone()} " via " {s.via.clone()}</dd>
                                <dt>"Stage"</dt><dd><span class=stage_class(s.stage)>{s.stage.as_str()}</span></dd>
                                <dt>"Build"</dt><dd><a href=format!("/builds/{}", s.build_id)>"open the build"</a></dd>
                                <dt>"Opened"</dt><dd><When at=s.opened_at/></dd>
                                <dt>"Ended"</dt><dd id="session-end">{match (&s.closed_at, &s.close_reason) {
                                    (Some(at), Some(r)) => format!("{} — {r}", short_time(at)),
                                    _ => format!("open until {} at the latest", short_time(&s.expires_at)),
                                }}</dd>
                                <dt>"Traffic"</dt><dd>{human_bytes(s.bytes_in)} " typed, " {human_bytes(s.bytes_out)} " printed"
                                    {(s.dropped_bytes > 0).then(|| format!(" ({} beyond the transcript limit, not stored)", human_bytes(s.dropped_bytes)))}</dd>
                            </dl>
                            <section class="card">
                                <h2>"Replay"</h2>
                                <div class="row">
                                    <button type="button" id="replay-play" on:click=move |_| {
                                        shown.set(0);
                                        playing.set(true);
                                        step();
                                    }>"Play"</button>
                                    <button type="button" on:click=move |_| { playing.set(false); shown.set(total); }>"Final screen"</button>
                                    <input type="range" min="0" max=total.to_string() aria-label="Position"
                                        prop:value=move || shown.get().to_string()
                                        on:input=move |e| { playing.set(false); shown.set(event_target_value(&e).parse().unwrap_or(total)); }/>
                                    <span class="muted small">{move || format!("{} / {total} events", shown.get())}</span>
                                </div>
                                <div class=shell_frame_class(s.stage)>
                                    <pre class="term-screen replay" id="replay-screen" inner_html=move || html.get()></pre>
                                </div>
                            </section>
                            <section class="card">
                                <h2>"Typed"</h2>
                                <ol class="typed" id="typed">
                                    {typed.into_iter().map(|(ms, line)| view! {
                                        <li><span class="muted small">{format!("+{:.1}s ", ms as f64 / 1000.0)}</span><code>{line}</code></li>
                                    }).collect_view()}
                                </ol>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
