//! Runbooks are written in Markdown by platform staff and read by everyone,
//! so they are rendered to HTML here, on the server, with nothing a writer
//! could turn against a reader: raw HTML in the text is shown as text, and
//! links and images keep only `http(s)://`, `mailto:`, relative and `#`
//! targets (no `javascript:` or `data:`).

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

fn safe_target(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    match u.split_once(':') {
        // A colon before any slash, ? or # is a scheme: only these.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => matches!(scheme, "http" | "https" | "mailto"),
        _ => true,
    }
}

/// `text` (Markdown, with tables and strikethrough) as HTML safe to show.
pub fn to_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(text, options).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_target(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: CowStr::from("#"), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_target(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: CowStr::from("#"), title, id })
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_nothing_runs() {
        let html = to_html("# Restore\n\n1. Open **Backups**\n2. See [the guide](https://odoo.example/doc)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Restore</h1>") && html.contains("<strong>Backups</strong>"), "{html}");
        assert!(html.contains(r#"<a href="https://odoo.example/doc">"#) && html.contains("<table>"), "{html}");
        for evil in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "![x](data:text/html,<script>alert(1)</script>)",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let out = to_html(evil);
            assert!(
                !out.contains("<script") && !out.contains("<img src=\"x\"") && !out.contains("<a href=\"javascript"),
                "{evil} → {out}"
            );
            assert!(
                !out.to_ascii_lowercase().contains("<a href=\"javascript") && !out.contains("src=\"data:"),
                "{evil} → {out}"
            );
        }
        assert!(to_html("[rel](/support#x) [mail](mailto:ops@acme.example)").contains("href=\"/support#x\""));
    }
}
