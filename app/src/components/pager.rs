//! A pager under a paged list (the fleet's tenants, the project's grid):
//! previous, page n of m, next. The list decides what a page holds.

use leptos::prelude::*;

/// `page` is 0-based; `pages` is at least 1 for an empty list.
#[component]
pub fn Pager(
    page: RwSignal<usize>,
    #[prop(into)] pages: Signal<usize>,
    #[prop(optional)] id: &'static str,
) -> impl IntoView {
    view! {
        <div class="row pager" id=(!id.is_empty()).then_some(id)>
            <button type="button" class="pager-previous" disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
            <span class="muted small">{move || format!("page {} of {}", page.get() + 1, pages.get().max(1))}</span>
            <button type="button" class="pager-next" disabled=move || { page.get() + 1 >= pages.get() }
                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </div>
    }
}
