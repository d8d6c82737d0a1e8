//! What a caught message says: envelope-independent facts parsed from the raw
//! bytes with `mail-parser` (MIME, RFC 2047 words, legacy charsets). Parsing
//! never fails the catch: a message that does not parse is kept raw with the
//! reason, and shown as such.

use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;

/// One attachment's metadata (the bytes stay in the raw message).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentMeta {
    pub index: u32,
    pub name: String,
    pub content_type: String,
    pub size: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub subject: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cc: Option<String>,
    pub date: Option<chrono::DateTime<chrono::Utc>>,
    pub message_id: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    /// `(name, raw value)` in message order.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<AttachmentMeta>,
    /// Why the message could not be parsed, if it could not.
    pub error: Option<String>,
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Option<String> {
    let list: Vec<String> = a?
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_owned(),
            (Some(n), None) => n.to_owned(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// Parses a message; never panics, whatever the bytes.
pub fn parse(raw: &[u8]) -> Parsed {
    storable(parse_mime(raw))
}

/// PostgreSQL's text and jsonb cannot hold NUL, which a hostile sender puts
/// anywhere: in what was parsed each becomes U+FFFD (the raw bytes keep it).
fn storable(mut p: Parsed) -> Parsed {
    let fix = |s: &mut String| {
        if s.contains('\0') {
            *s = s.replace('\0', "\u{fffd}");
        }
    };
    let fields = [&mut p.subject, &mut p.from, &mut p.to, &mut p.cc, &mut p.message_id, &mut p.text, &mut p.html];
    fields.into_iter().chain([&mut p.error]).flatten().for_each(fix);
    for (name, value) in &mut p.headers {
        fix(name);
        fix(value);
    }
    for a in &mut p.attachments {
        fix(&mut a.name);
        fix(&mut a.content_type);
    }
    p
}

fn parse_mime(raw: &[u8]) -> Parsed {
    let looks_like_mail = raw.windows(2).take(64 * 1024).any(|w| w == b": " || w == b":\t")
        || raw.starts_with(b"From:")
        || raw.iter().take(1000).any(|b| *b == b':');
    let message = match MessageParser::default().parse(raw) {
        Some(m) if looks_like_mail && !m.headers().is_empty() => m,
        _ => {
            return Parsed {
                error: Some("not a MIME message: no header could be read".into()),
                text: Some(String::from_utf8_lossy(raw).into_owned()),
                ..Parsed::default()
            }
        }
    };
    let attachments = message
        .attachments()
        .enumerate()
        .map(|(i, part)| AttachmentMeta {
            index: i as u32,
            name: part.attachment_name().map(str::to_owned).unwrap_or_else(|| format!("attachment-{}", i + 1)),
            content_type: part
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            size: part.contents().len(),
        })
        .collect();
    Parsed {
        subject: message.subject().map(str::to_owned),
        from: addresses(message.from()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        date: message.date().and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0)),
        message_id: message.message_id().map(str::to_owned),
        text: message.body_text(0).map(|t| t.into_owned()),
        // Only a real text/html part: mail-parser would otherwise convert the text part to HTML.
        html: message
            .html_part(0)
            .filter(|part| part.is_content_type("text", "html"))
            .and_then(|part| part.text_contents())
            .map(str::to_owned),
        headers: message.headers_raw().map(|(n, v)| (n.to_owned(), v.trim().to_owned())).collect(),
        attachments,
        error: None,
    }
}

/// The bytes of attachment `index`, decoded.
pub fn attachment(raw: &[u8], index: u32) -> Option<(AttachmentMeta, Vec<u8>)> {
    let message = MessageParser::default().parse(raw)?;
    let parsed = parse(raw);
    let meta = parsed.attachments.into_iter().find(|a| a.index == index)?;
    let part = message.attachments().nth(index as usize)?;
    Some((meta, part.contents().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_anywhere_becomes_a_replacement_character() {
        let p = parse(b"Subject: a\x00b\r\nX-Evil: c\x00d\r\nFrom: e\x00@x.test\r\n\r\nbody\x00\r\n");
        let text = format!("{:?}{:?}{:?}{:?}", p.subject, p.headers, p.from, p.text);
        assert!(!text.contains('\0'), "{text}");
        assert_eq!(p.subject.as_deref(), Some("a\u{fffd}b"));
    }

    #[test]
    fn plain_message() {
        let p = parse(b"From: Ann <ann@acme.test>\r\nTo: bob@acme.test\r\nSubject: Hi\r\nMessage-ID: <1@acme>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\nHello Bob\r\n");
        assert_eq!(p.subject.as_deref(), Some("Hi"));
        assert_eq!(p.from.as_deref(), Some("Ann <ann@acme.test>"));
        assert_eq!(p.to.as_deref(), Some("bob@acme.test"));
        assert_eq!(p.message_id.as_deref(), Some("1@acme"));
        assert_eq!(p.date.unwrap().to_rfc3339(), "2026-11-22T10:00:00+00:00");
        assert_eq!(p.text.as_deref().map(str::trim), Some("Hello Bob"));
        assert!(p.html.is_none() && p.attachments.is_empty() && p.error.is_none());
        assert_eq!(p.headers[0], ("From".into(), "Ann <ann@acme.test>".into()));
    }

    #[test]
    fn encoded_words_charsets_alternatives_and_attachments() {
        let raw = concat!(
            "From: =?UTF-8?B?w4lsb2RpZQ==?= <elodie@acme.test>\r\n",
            "Subject: =?ISO-8859-1?Q?Caf=E9?=\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n",
            "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n",
            "--b2\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=E9j=E0 vu\r\n",
            "--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>D\u{e9}j\u{e0} vu</p>\r\n--b2--\r\n",
            "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"invoice.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n"
        );
        let p = parse(raw.as_bytes());
        assert_eq!(p.subject.as_deref(), Some("Café"));
        assert_eq!(p.from.as_deref(), Some("Élodie <elodie@acme.test>"));
        assert_eq!(p.text.as_deref().map(str::trim), Some("Déjà vu"));
        assert!(p.html.as_deref().unwrap().contains("<p>Déjà vu</p>"));
        assert_eq!(p.attachments.len(), 1);
        assert_eq!(p.attachments[0].name, "invoice.pdf");
        assert_eq!(p.attachments[0].content_type, "application/pdf");
        let (_, bytes) = attachment(raw.as_bytes(), 0).unwrap();
        assert_eq!(bytes, b"%PDF-1.4\n");
    }

    /// Legacy East Asian charsets (issue 20: they showed garbled): ISO-2022-JP and EUC-KR encoded
    /// words in headers, Shift_JIS and ISO-2022-JP bodies.
    #[test]
    fn japanese_and_korean_legacy_charsets_decode() {
        let mut raw: Vec<u8> = concat!(
            "From: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= <jp@acme.test>\r\n",
            "To: kr@acme.test\r\n",
            "Subject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= =?EUC-KR?B?x9Gxub7u?=\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=Shift_JIS\r\n",
            "Content-Transfer-Encoding: 8bit\r\n\r\n",
        )
        .as_bytes()
        .to_vec();
        raw.extend_from_slice(&[0x93, 0xFA, 0x96, 0x7B, 0x8C, 0xEA, b'\r', b'\n']);
        let p = parse(&raw);
        assert_eq!(p.error, None);
        assert_eq!(p.subject.as_deref(), Some("テスト한국어"), "{p:?}");
        assert!(p.from.as_deref().unwrap_or_default().contains("テスト"), "{p:?}");
        assert_eq!(p.text.as_deref().map(str::trim), Some("日本語"));
        let jis = b"From: a@acme.test\r\nSubject: x\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n";
        assert_eq!(parse(jis).text.as_deref().map(str::trim), Some("こんにちは"));
    }

    #[test]
    fn garbage_is_kept_with_a_reason() {
        for raw in [&b"\x00\xff\xfe garbage without headers"[..], b"", b"\r\n\r\n"] {
            let p = parse(raw);
            assert!(p.error.is_some(), "{raw:?} → {p:?}");
        }
    }
}
