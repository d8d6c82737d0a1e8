//! Asking before a destructive action (issue 20): a dialog that says what will
//! happen — a killed build, a rollback, deleted mail, a stage change, a
//! production rebuild — and, where data is replaced, asks for the name to be
//! typed first. Nothing runs until the person confirms; Escape, Cancel and a
//! click outside do nothing.

use crate::components::kit::trap_tab;
use leptos::html::Div;
use leptos::prelude::*;

/// One question: what is about to happen and what runs when it is confirmed.
#[derive(Clone)]
pub struct Ask {
    pub title: String,
    /// What will happen, in full.
    pub body: String,
    /// The confirm button's label (a verb: "Kill build #4").
    pub confirm: String,
    /// A name the person types before the button enables (restores, deletions).
    pub typed: Option<String>,
    pub run: Callback<()>,
}

impl Ask {
    pub fn new(
        title: impl Into<String>,
        body: impl Into<String>,
        confirm: impl Into<String>,
        run: impl Fn() + Send + Sync + 'static,
    ) -> Ask {
        Ask {
            title: title.into(),
            body: body.into(),
            confirm: confirm.into(),
            typed: None,
            run: Callback::new(move |()| run()),
        }
    }

    pub fn typing(mut self, name: impl Into<String>) -> Ask {
        self.typed = Some(name.into());
        self
    }
}

/// Whether what was typed lets the action run.
pub fn typed_matches(wanted: Option<&str>, typed: &str) -> bool {
    wanted.is_none_or(|w| typed.trim() == w)
}

/// The dialog for whatever `ask` holds; empty while it holds nothing.
#[component]
pub fn ConfirmDialog(ask: RwSignal<Option<Ask>>) -> impl IntoView {
    let dialog = NodeRef::<Div>::new();
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let (true, Some(el)) = (ask.with(Option::is_some), dialog.get()) {
            typed.set(String::new());
            let _ = el.focus();
        }
    });
    let cancel = move || ask.set(None);
    view! {
        {move || ask.get().map(|a| {
            let wanted = a.typed.clone();
            let stored = StoredValue::new(wanted.clone());
            let ready = move || typed.with(|t| stored.with_value(|w| typed_matches(w.as_deref(), t)));
            let run = a.run;
            let go = move || {
                if ready() {
                    ask.set(None);
                    run.run(());
                }
            };
            view! {
                <div class="modal-backdrop" on:click=move |e| if e.target() == e.current_target() { cancel() }>
                    <div class="modal confirm" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title"
                        aria-describedby="confirm-text" id="confirm-dialog" tabindex="-1" node_ref=dialog
                        on:keydown=move |e| match e.key().as_str() {
                            "Escape" => cancel(),
                            "Tab" => trap_tab(dialog, &e),
                            _ => {}
                        }>
                        <h2 id="confirm-title">{a.title.clone()}</h2>
                        <p id="confirm-text">{a.body.clone()}</p>
                        {wanted.map(|w| view! {
                            <label>"Type " <code>{w.clone()}</code> " to confirm"
                                <input type="text" id="confirm-typed" autocomplete="off" spellcheck="false"
                                    prop:value=move || typed.get()
                                    on:input=move |e| typed.set(event_target_value(&e))
                                    on:keydown=move |e| if e.key() == "Enter" { e.prevent_default(); go() }/>
                            </label>
                        })}
                        <div class="row modal-actions">
                            <button type="button" id="confirm-cancel" on:click=move |_| cancel()>"Cancel"</button>
                            <button type="button" class="danger" id="confirm-ok" disabled=move || !ready()
                                on:click=move |_| go()>{a.confirm.clone()}</button>
                        </div>
                    </div>
                </div>
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::typed_matches;

    #[test]
    fn the_typed_name_must_match_exactly_apart_from_surrounding_spaces() {
        assert!(typed_matches(None, ""));
        assert!(typed_matches(Some("main"), " main "));
        assert!(!typed_matches(Some("main"), "Main"));
        assert!(!typed_matches(Some("main"), ""));
    }
}
