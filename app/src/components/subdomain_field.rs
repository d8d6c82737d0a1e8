//! The address field of a new workspace: the subdomain rule checked as it is
//! typed (the same parse the server runs), then whether the name is free.

use crate::functions::instances::subdomain_available;
use crate::models::instance::subdomain_hint;
use leptos::prelude::*;

#[component]
pub fn SubdomainField() -> impl IntoView {
    let subdomain = RwSignal::new(String::new());
    let free = Resource::new(
        move || subdomain.get(),
        |s| async move {
            if s.trim().is_empty() || subdomain_hint(&s).is_some() {
                None
            } else {
                subdomain_available(s).await.ok()
            }
        },
    );
    view! {
        <label>"Address"
            <input type="text" name="subdomain" required maxlength="40" autocomplete="off"
                on:input=move |e| subdomain.set(event_target_value(&e))/>
        </label>
        <p class="small" id="subdomain-hint">{move || match subdomain_hint(&subdomain.get()) {
            Some(why) => view! { <span class="error">{why}</span> }.into_any(),
            None => view! {
                <Transition fallback=|| ()>
                    {move || free.get().flatten().map(|ok| if ok {
                        view! { <span class="muted">"Available."</span> }.into_any()
                    } else {
                        view! { <span class="error">"Taken; choose another name."</span> }.into_any()
                    })}
                </Transition>
            }.into_any(),
        }}</p>
    }
}
