//! Mail viewer logic: what the sandboxed HTML view may load.

/// The `srcdoc` of the HTML tab: the message's HTML behind a Content
/// Security Policy that allows no scripts, no network, and remote images only
/// when the person asked for them. The iframe is also sandboxed.
pub fn mail_srcdoc(html: &str, remote_images: bool) -> String {
    let img = if remote_images { "data: cid: http: https:" } else { "data: cid:" };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src {img}; font-src data:\">\
         <base target=\"_blank\"></head><body>{html}</body></html>"
    )
}

/// Whether the HTML refers to remote images (to offer "show remote images").
pub fn has_remote_images(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    ["src=\"http", "src='http", "src=http", "url(http", "url('http", "url(\"http"].iter().any(|p| lower.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_images_are_blocked_until_asked() {
        let doc = mail_srcdoc("<img src=\"https://t.example/p.gif\">", false);
        assert!(doc.contains("img-src data: cid:;") && doc.contains("default-src 'none'"));
        assert!(mail_srcdoc("x", true).contains("img-src data: cid: http: https:"));
        assert!(has_remote_images("<IMG SRC=\"HTTPS://x\">"));
        assert!(!has_remote_images("<img src=\"data:image/png;base64,AA\">"));
    }
}
