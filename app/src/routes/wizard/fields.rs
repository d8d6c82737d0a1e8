//! A wizard field: a labelled input bound to the draft, with its error
//! beside it (the live check's once typed in, the server's after a save)
//! and `aria-invalid` so focus can find the first one.

use super::Wiz;
use crate::models::wizard::field_error;
use domain::types::{DraftData, FieldError};
use leptos::prelude::*;

/// The error shown for `name` now.
pub(crate) fn shown_error(w: Wiz, name: &'static str) -> Option<String> {
    let live: Vec<FieldError> = w.data.with(|d| d.errors(w.step.get()));
    let server = w.server_errors.get();
    if w.touched.with(|t| t.contains(name)) {
        field_error(&live, &server, name)
    } else {
        domain::types::error_for(&server, name)
    }
}

/// The error line under a field.
#[component]
pub(crate) fn FieldMessage(w: Wiz, name: &'static str) -> impl IntoView {
    view! {
        <span class="error small field-error" id=format!("e-{name}") role="status">
            {move || shown_error(w, name)}
        </span>
    }
}

/// A text input bound to one field of the draft.
#[component]
pub(crate) fn TextField(
    w: Wiz,
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] placeholder: &'static str,
    #[prop(default = "")] hint: &'static str,
    #[prop(optional)] list: Option<&'static str>,
    get: fn(&DraftData) -> String,
    set: fn(&mut DraftData, String),
) -> impl IntoView {
    view! {
        <label>{label}
            {(!hint.is_empty()).then(|| view! { <small class="muted">{hint}</small> })}
            <input type=kind name=name id=format!("f-{name}") placeholder=placeholder list=list autocomplete="off"
                prop:value=move || w.data.with(get)
                aria-invalid=move || shown_error(w, name).map(|_| "true")
                aria-describedby=format!("e-{name}")
                on:input=move |e| {
                    let v = event_target_value(&e);
                    w.data.update(|d| set(d, v));
                    w.touch(name);
                }/>
        </label>
        <FieldMessage w=w name=name/>
    }
}

/// A select bound to one field of the draft; `options` are (value, label).
#[component]
pub(crate) fn SelectField(
    w: Wiz,
    label: &'static str,
    name: &'static str,
    #[prop(into)] options: Signal<Vec<(String, String)>>,
    get: fn(&DraftData) -> String,
    set: fn(&mut DraftData, String),
) -> impl IntoView {
    view! {
        <label>{label}
            <select name=name id=format!("f-{name}")
                aria-invalid=move || shown_error(w, name).map(|_| "true")
                aria-describedby=format!("e-{name}")
                on:change=move |e| {
                    let v = event_target_value(&e);
                    w.data.update(|d| set(d, v));
                    w.touch(name);
                }>
                {move || {
                    let current = w.data.with(get);
                    options.get().into_iter().map(|(v, l)| {
                        let selected = v == current;
                        view! { <option value=v.clone() selected=selected>{l}</option> }
                    }).collect_view()
                }}
            </select>
        </label>
        <FieldMessage w=w name=name/>
    }
}
