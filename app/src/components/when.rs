//! Times as the viewer reads them (issue 20): in their own time zone, with how
//! long ago. The server does not know the viewer's zone, so the page is
//! rendered (and hydrated) in UTC and switches to local time once running in
//! the browser; the UTC time stays in the tooltip and `datetime`.

use crate::models::{relative_text, short_time};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// A point in time: UTC until hydrated, then local with "3 min ago".
#[component]
pub fn When(at: DateTime<Utc>) -> impl IntoView {
    let running = RwSignal::new(false);
    Effect::new(move |_| running.set(true));
    let utc = short_time(&at);
    let shown = {
        let utc = utc.clone();
        move || {
            if running.get() {
                let ago = (crate::models::now() - at).num_seconds();
                format!("{} ({})", local_text(&at), relative_text(ago))
            } else {
                utc.clone()
            }
        }
    };
    view! { <time datetime=at.to_rfc3339() title=utc class="when">{shown}</time> }
}

/// `YYYY-MM-DD HH:MM` in the browser's time zone (UTC outside a browser).
fn local_text(at: &DateTime<Utc>) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        at.format("%Y-%m-%d %H:%M").to_string()
    }
}
