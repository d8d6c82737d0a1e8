//! An untrusted `dump.sql` is fed to `psql`, and psql runs any backslash
//! command it reads, anywhere on a line, on *this* host: `\! cmd`,
//! `\o |cmd`, `\copy … to program`, `\i /etc/shadow`. psql's restricted mode
//! (`\restrict KEY`, psql 15.14 and later) refuses every meta-command except
//! `\unrestrict KEY`. [`Restricted`] opens the stream with a random key the
//! dump cannot know, so nothing in the dump can leave that mode.
//!
//! pg_dump 15.14 and later wraps a plain dump in its own `\restrict KEY` …
//! `\unrestrict KEY` pair, and psql refuses to nest them, so that pair is
//! dropped: the `\restrict` line only in the comment header before the first
//! statement, the `\unrestrict` line only when nothing but blank lines follows
//! it. Everything else passes byte for byte (COPY data included), so a dump
//! that tries to unrestrict itself anywhere else makes psql stop with an error.

use std::io::Write;

/// Longest line that may be one of pg_dump's own restrict lines.
const MAX_KEY_LINE: usize = 100;

/// A fresh random key for [`Restricted::new`].
pub fn random_key() -> String {
    crate::auth::random_token(24).chars().filter(char::is_ascii_alphanumeric).collect()
}

pub struct Restricted<W: Write> {
    inner: W,
    /// The current line when it starts with a backslash and is short so far.
    pending: Vec<u8>,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    /// Whether the current line started with a backslash (and is being collected in `pending`).
    collecting: bool,
    /// Only blank lines and `--` comments so far.
    in_header: bool,
    /// A `\unrestrict` line, emitted only if more than blank lines follow it.
    held: Option<Vec<u8>>,
    blank_after_held: usize,
}

impl<W: Write> Restricted<W> {
    /// Writes psql's `\restrict <key>` first; `key` must be alphanumeric.
    pub fn new(mut inner: W, key: &str) -> std::io::Result<Self> {
        assert!(!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric()), "restrict keys are alphanumeric");
        inner.write_all(format!("\\restrict {key}\n").as_bytes())?;
        Ok(Restricted {
            inner,
            pending: Vec::new(),
            at_line_start: true,
            collecting: false,
            in_header: true,
            held: None,
            blank_after_held: 0,
        })
    }

    /// Ends the stream: a trailing `\unrestrict` line is dropped.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.collecting {
            let line = std::mem::take(&mut self.pending);
            self.release_held()?;
            self.inner.write_all(&line)?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn release_held(&mut self) -> std::io::Result<()> {
        if let Some(line) = self.held.take() {
            self.inner.write_all(&line)?;
            for _ in 0..self.blank_after_held {
                self.inner.write_all(b"\n")?;
            }
            self.blank_after_held = 0;
        }
        Ok(())
    }

    /// A complete short line that began with a backslash.
    fn backslash_line(&mut self, line: Vec<u8>) -> std::io::Result<()> {
        let text = std::str::from_utf8(&line).unwrap_or("");
        let body = text.trim_end_matches(['\n', '\r']);
        let keyed = |cmd: &str| {
            body.strip_prefix(cmd).is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric()))
        };
        if self.in_header && keyed("\\restrict ") {
            return Ok(());
        }
        self.release_held()?;
        if keyed("\\unrestrict ") {
            self.held = Some(line);
            return Ok(());
        }
        self.in_header = false;
        self.inner.write_all(&line)
    }
}

impl<W: Write> Write for Restricted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut i = 0;
        while i < buf.len() {
            // Past the header with nothing held, only lines that start with a
            // backslash need a look (in a dump, the ends of COPY blocks): copy
            // everything up to the next one in one piece.
            if !self.collecting && !self.in_header && self.held.is_none() {
                let rest = &buf[i..];
                let upto = if self.at_line_start && rest[0] == b'\\' {
                    0
                } else {
                    memchr::memmem::find(rest, b"\n\\").map_or(rest.len(), |p| p + 1)
                };
                if upto > 0 {
                    self.inner.write_all(&rest[..upto])?;
                    self.at_line_start = rest[upto - 1] == b'\n';
                    i += upto;
                    continue;
                }
            }
            if self.collecting {
                let end = buf[i..].iter().position(|&b| b == b'\n').map(|p| i + p + 1);
                let take = end.unwrap_or(buf.len());
                self.pending.extend_from_slice(&buf[i..take]);
                i = take;
                if end.is_some() {
                    self.collecting = false;
                    self.at_line_start = true;
                    let line = std::mem::take(&mut self.pending);
                    self.backslash_line(line)?;
                } else if self.pending.len() > MAX_KEY_LINE {
                    // Too long to be a restrict line: an ordinary one, passed through.
                    self.collecting = false;
                    let line = std::mem::take(&mut self.pending);
                    self.release_held()?;
                    self.in_header = false;
                    self.inner.write_all(&line)?;
                }
                continue;
            }
            if self.at_line_start {
                match buf[i] {
                    b'\\' => {
                        self.collecting = true;
                        self.at_line_start = false;
                        continue;
                    }
                    b'\n' if self.held.is_some() => {
                        self.blank_after_held += 1;
                        i += 1;
                        continue;
                    }
                    b'\n' => {}
                    b'-' => self.release_held()?,
                    _ => {
                        self.release_held()?;
                        self.in_header = false;
                    }
                }
            }
            let end = buf[i..].iter().position(|&b| b == b'\n').map(|p| i + p + 1);
            let take = end.unwrap_or(buf.len());
            self.inner.write_all(&buf[i..take])?;
            self.at_line_start = end.is_some();
            i = take;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::Restricted;
    use std::io::Write;

    fn run(input: &str, chunk: usize) -> String {
        let mut w = Restricted::new(Vec::new(), "OURKEY").unwrap();
        for part in input.as_bytes().chunks(chunk) {
            w.write_all(part).unwrap();
        }
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    const PG_DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n-- Dumped from 15.18\nSET x = 1;\n\
        COPY public.t (a) FROM stdin;\n\\\\restrict not-a-command\n\\restrict abc123\n\\.\n\n--\n-- done\n--\n\n\\unrestrict abc123\n\n";

    #[test]
    fn pg_dumps_own_pair_is_dropped_and_ours_leads() {
        for chunk in [1, 2, 3, 7, 1000] {
            let out = run(PG_DUMP, chunk);
            assert!(out.starts_with("\\restrict OURKEY\n--\n"), "{out}");
            assert!(!out.contains("\\unrestrict"), "{out}");
            // The header's restrict line is gone; the one inside COPY data stays.
            assert_eq!(out.matches("\\restrict abc123").count(), 1, "{out}");
            assert!(out.contains("COPY public.t (a) FROM stdin;\n\\\\restrict not-a-command\n\\restrict abc123\n\\.\n"));
        }
    }

    #[test]
    fn meta_commands_pass_through_for_psql_to_refuse() {
        let out = run("\\! touch /tmp/x\nSELECT 1 \\! id\n\\o |sh\n", 2);
        assert_eq!(out, "\\restrict OURKEY\n\\! touch /tmp/x\nSELECT 1 \\! id\n\\o |sh\n");
    }

    #[test]
    fn an_unrestrict_that_is_not_last_is_kept() {
        let out = run("SELECT 1;\n\\unrestrict guess\n\n\\! id\n", 3);
        assert_eq!(out, "\\restrict OURKEY\nSELECT 1;\n\\unrestrict guess\n\n\\! id\n");
        let out = run("SELECT 1;\n\\unrestrict guess\n\nSELECT 2;\n", 1);
        assert!(out.contains("\\unrestrict guess\n\nSELECT 2;"), "{out}");
    }

    #[test]
    fn a_restrict_after_the_header_is_kept() {
        let out = run("SELECT 1;\n\\restrict other\n", 4);
        assert_eq!(out, "\\restrict OURKEY\nSELECT 1;\n\\restrict other\n");
    }

    #[test]
    fn long_backslash_lines_stream_unchanged() {
        let long = format!("\\{}\nSELECT 1;\n", "x".repeat(500));
        assert_eq!(run(&long, 64), format!("\\restrict OURKEY\n{long}"));
        assert_eq!(run("no newline at end", 3), "\\restrict OURKEY\nno newline at end");
        assert_eq!(run("\\partial", 3), "\\restrict OURKEY\n\\partial");
    }
}
