//! The viewer's search syntax, as Mailpit's: `from:`, `to:`, `subject:`,
//! `has:attachment`, `is:unread`, and free words; quotes group words.

/// A parsed search; every part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub subject: Vec<String>,
    pub text: Vec<String>,
    pub has_attachment: bool,
    pub unread: bool,
}

fn tokens(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

impl Query {
    pub fn parse(input: &str) -> Query {
        let mut q = Query::default();
        for t in tokens(input) {
            let (key, value) =
                t.split_once(':').map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).unwrap_or_default();
            match (key.as_str(), value.as_str()) {
                ("from", v) if !v.is_empty() => q.from.push(v.to_owned()),
                ("to", v) if !v.is_empty() => q.to.push(v.to_owned()),
                ("subject", v) if !v.is_empty() => q.subject.push(v.to_owned()),
                ("has", "attachment" | "attachments") => q.has_attachment = true,
                ("is", "unread") => q.unread = true,
                _ => q.text.push(t),
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_flags_quotes_and_free_words() {
        let q = Query::parse(r#"from:ann@acme.test subject:"order 42" has:attachment is:unread invoice"#);
        assert_eq!(q.from, ["ann@acme.test"]);
        assert_eq!(q.subject, ["order 42"]);
        assert!(q.has_attachment && q.unread);
        assert_eq!(q.text, ["invoice"]);
        assert_eq!(Query::parse("  "), Query::default());
        assert_eq!(Query::parse("to:").text, ["to:"], "an empty field is a word");
        assert_eq!(Query::parse("http://x").text, ["http://x"]);
    }
}
