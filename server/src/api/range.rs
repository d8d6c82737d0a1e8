//! HTTP range requests (RFC 9110 §14) for downloads that resume: one range
//! of bytes, honoured only while `If-Range` still names the same
//! representation; anything else is served whole.

use axum::http::{header, HeaderMap};

/// What a request asks of a representation of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Requested {
    /// No (usable) range: the whole body, 200.
    Whole,
    /// Bytes `start..=end`, 206.
    Part { start: u64, end: u64 },
    /// A range that starts past the end, 416.
    Unsatisfiable,
}

/// The range a request asks for, given the representation's strong `etag`.
pub fn requested(headers: &HeaderMap, etag: &str, len: u64) -> Requested {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Requested::Whole };
    // A stale validator means the client's part belongs to something else: send it all.
    if let Some(v) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        if v.trim() != etag {
            return Requested::Whole;
        }
    }
    parse(range, len)
}

/// `bytes=N-`, `bytes=N-M` or `bytes=-S` (one range; several are served whole).
pub fn parse(range: &str, len: u64) -> Requested {
    let Some(spec) = range.trim().strip_prefix("bytes=") else { return Requested::Whole };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else { return Requested::Whole };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    let (start, end) = match (a.is_empty(), b.is_empty()) {
        (false, true) => match num(a) {
            Some(s) => (s, len.saturating_sub(1)),
            None => return Requested::Whole,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
            _ => return Requested::Whole,
        },
        (true, false) => match num(b) {
            Some(0) => return Requested::Unsatisfiable,
            Some(n) => (len.saturating_sub(n), len.saturating_sub(1)),
            None => return Requested::Whole,
        },
        (true, true) => return Requested::Whole,
    };
    if start >= len {
        return Requested::Unsatisfiable;
    }
    Requested::Part { start, end }
}

/// `count` bytes read from `body` sent as the attachment `name`: a download
/// of a local copy, which stays on disk (`keep`) until the last byte is out.
pub fn attachment<R, K>(
    status: axum::http::StatusCode,
    body: R,
    keep: K,
    count: u64,
    name: &str,
    ctype: &str,
    accept_ranges: &str,
) -> axum::response::Response
where
    R: tokio::io::AsyncRead + Send + 'static,
    K: Send + Sync + 'static,
{
    use axum::response::IntoResponse;
    use futures_util::StreamExt;
    let stream = tokio_util::io::ReaderStream::with_capacity(body, 1 << 20).map(move |chunk| {
        let _keep = &keep;
        chunk
    });
    (
        status,
        [
            (header::CONTENT_TYPE, ctype.to_owned()),
            (header::CONTENT_LENGTH, count.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::ACCEPT_RANGES, accept_ranges.to_owned()),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse("bytes=100-", 1000), Requested::Part { start: 100, end: 999 });
        assert_eq!(parse("bytes=0-9", 1000), Requested::Part { start: 0, end: 9 });
        assert_eq!(parse("bytes=990-2000", 1000), Requested::Part { start: 990, end: 999 });
        assert_eq!(parse("bytes=-10", 1000), Requested::Part { start: 990, end: 999 });
        assert_eq!(parse("bytes=1000-", 1000), Requested::Unsatisfiable);
        assert_eq!(parse("bytes=5-1", 1000), Requested::Whole);
        assert_eq!(parse("bytes=0-1,5-6", 1000), Requested::Whole);
        assert_eq!(parse("items=0-1", 1000), Requested::Whole);
        assert_eq!(parse("bytes=x-", 1000), Requested::Whole);
    }

    #[test]
    fn a_stale_validator_gets_the_whole_body() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, "bytes=10-".parse().unwrap());
        assert_eq!(requested(&h, "\"a-1\"", 100), Requested::Part { start: 10, end: 99 });
        h.insert(header::IF_RANGE, "\"b-1\"".parse().unwrap());
        assert_eq!(requested(&h, "\"a-1\"", 100), Requested::Whole);
        h.insert(header::IF_RANGE, "\"a-1\"".parse().unwrap());
        assert_eq!(requested(&h, "\"a-1\"", 100), Requested::Part { start: 10, end: 99 });
    }
}
