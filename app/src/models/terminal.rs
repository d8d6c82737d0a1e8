//! Terminal logic that needs no browser: keys to the bytes a terminal sends
//! (xterm conventions), a `vt100` screen to HTML, and the grid size that fits
//! an element. The terminal component only wires these to the DOM.

use vt100::{Color, Screen};

/// A key press, as the browser reports it (`KeyboardEvent.key` and modifiers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Key<'a> {
    pub key: &'a str,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
    pub meta: bool,
}

/// The bytes a key sends, or `None` when the browser should keep it (Cmd
/// shortcuts, lone modifiers). `app_cursor` is DECCKM (set by `vi`, `less`).
pub fn key_bytes(k: Key<'_>, app_cursor: bool) -> Option<Vec<u8>> {
    if k.meta {
        return None;
    }
    // xterm's modifier parameter: 1 + shift + 2·alt + 4·ctrl.
    let modifier = 1 + u8::from(k.shift) + 2 * u8::from(k.alt) + 4 * u8::from(k.ctrl);
    let csi_letter = |letter: char| -> Vec<u8> {
        if modifier > 1 {
            format!("\x1b[1;{modifier}{letter}").into_bytes()
        } else if app_cursor {
            format!("\x1bO{letter}").into_bytes()
        } else {
            format!("\x1b[{letter}").into_bytes()
        }
    };
    let tilde = |n: u8| -> Vec<u8> {
        if modifier > 1 {
            format!("\x1b[{n};{modifier}~").into_bytes()
        } else {
            format!("\x1b[{n}~").into_bytes()
        }
    };
    let ss3 = |letter: char| -> Vec<u8> {
        if modifier > 1 {
            format!("\x1b[1;{modifier}{letter}").into_bytes()
        } else {
            format!("\x1bO{letter}").into_bytes()
        }
    };
    let plain = match k.key {
        "Enter" => b"\r".to_vec(),
        "Backspace" => (if k.ctrl { b"\x08" } else { b"\x7f" }).to_vec(),
        "Tab" if k.shift => b"\x1b[Z".to_vec(),
        "Tab" => b"\t".to_vec(),
        "Escape" => b"\x1b".to_vec(),
        "ArrowUp" => return Some(csi_letter('A')),
        "ArrowDown" => return Some(csi_letter('B')),
        "ArrowRight" => return Some(csi_letter('C')),
        "ArrowLeft" => return Some(csi_letter('D')),
        "Home" => return Some(csi_letter('H')),
        "End" => return Some(csi_letter('F')),
        "Insert" => return Some(tilde(2)),
        "Delete" => return Some(tilde(3)),
        "PageUp" => return Some(tilde(5)),
        "PageDown" => return Some(tilde(6)),
        "F1" => return Some(ss3('P')),
        "F2" => return Some(ss3('Q')),
        "F3" => return Some(ss3('R')),
        "F4" => return Some(ss3('S')),
        f if f.len() >= 2 && f.starts_with('F') && f[1..].parse::<u8>().is_ok() => {
            let code = match f[1..].parse::<u8>().unwrap_or(0) {
                5 => 15,
                6 => 17,
                7 => 18,
                8 => 19,
                9 => 20,
                10 => 21,
                11 => 23,
                12 => 24,
                _ => return None,
            };
            return Some(tilde(code));
        }
        key if key.chars().count() == 1 => {
            let c = key.chars().next()?;
            let mut out = Vec::new();
            if k.alt {
                out.push(0x1b);
            }
            if k.ctrl {
                out.push(control_byte(c)?);
            } else {
                out.extend(c.to_string().as_bytes());
            }
            return Some(out);
        }
        _ => return None,
    };
    Some(if k.alt { [b"\x1b".as_slice(), &plain].concat() } else { plain })
}

/// Ctrl+<c>: the C0 control character.
fn control_byte(c: char) -> Option<u8> {
    Some(match c.to_ascii_lowercase() {
        c @ 'a'..='z' => c as u8 - b'a' + 1,
        '@' | ' ' | '2' => 0,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '-' | '7' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    })
}

/// What pasting `text` sends: bracketed when the program asked for it.
pub fn paste_bytes(text: &str, bracketed: bool) -> Vec<u8> {
    let text = text.replace("\r\n", "\r").replace('\n', "\r");
    if bracketed {
        format!("\x1b[200~{text}\x1b[201~").into_bytes()
    } else {
        text.into_bytes()
    }
}

fn nonzero(v: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(v.max(1)).unwrap_or(std::num::NonZeroU16::MIN)
}

/// A terminal of `rows`×`cols` keeping `scrollback` lines.
pub fn new_parser(rows: u16, cols: u16, scrollback: usize) -> vt100::Parser {
    vt100::Parser::new(nonzero(rows), nonzero(cols), scrollback)
}

/// Resizes a terminal.
pub fn resize(parser: &mut vt100::Parser, rows: u16, cols: u16) {
    parser.set_size(nonzero(rows), nonzero(cols));
}

/// Columns and rows of `cell_w`×`cell_h` cells that fit `width`×`height` pixels.
pub fn grid_size(width: f64, height: f64, cell_w: f64, cell_h: f64) -> (u16, u16) {
    let fit = |space: f64, cell: f64, min: f64| {
        if cell <= 0.0 {
            return min as u16;
        }
        (space / cell).floor().clamp(min, 500.0) as u16
    };
    (fit(width, cell_w, 20.0), fit(height, cell_h, 5.0))
}

const DEFAULT_FG: &str = "#d8dee9";
const DEFAULT_BG: &str = "#14171c";

/// The 256-colour xterm palette as CSS.
fn css_color(c: Color, default: &str) -> String {
    const BASE: [&str; 16] = [
        "#2e3440", "#d0555a", "#8fbf6a", "#e6c36a", "#5e8fd0", "#b07cc6", "#5fb3b3", "#d8dee9", "#4c566a", "#ef6b70",
        "#a3d97d", "#f3d57c", "#81a6e6", "#c895dc", "#7fcfcf", "#ffffff",
    ];
    match c {
        Color::Default => default.to_owned(),
        Color::Idx(i) if i < 16 => BASE[i as usize].to_owned(),
        Color::Idx(i) if i < 232 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            format!("#{:02x}{:02x}{:02x}", level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        Color::Idx(i) => {
            let v = 8 + (i - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

#[derive(PartialEq)]
struct Style {
    fg: Color,
    bg: Color,
    bold: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
    cursor: bool,
}

impl Style {
    fn css(&self) -> String {
        let (mut fg, mut bg) = (css_color(self.fg, DEFAULT_FG), css_color(self.bg, DEFAULT_BG));
        if self.inverse != self.cursor {
            std::mem::swap(&mut fg, &mut bg);
        }
        let mut css = String::new();
        if fg != DEFAULT_FG {
            css.push_str(&format!("color:{fg};"));
        }
        if bg != DEFAULT_BG {
            css.push_str(&format!("background:{bg};"));
        }
        if self.bold {
            css.push_str("font-weight:bold;");
        }
        if self.italic {
            css.push_str("font-style:italic;");
        }
        if self.underline {
            css.push_str("text-decoration:underline;");
        }
        css
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// The visible screen as HTML: one `div` per row, runs of equally styled
/// cells as `span`s, the cursor drawn inverted (when shown and `cursor`).
pub fn screen_html(screen: &Screen, cursor: bool) -> String {
    let (rows, cols) = (screen.size().0.get(), screen.size().1.get());
    let (cur_row, cur_col) = screen.cursor_position();
    let show_cursor = cursor && !screen.hide_cursor() && screen.scrollback() == 0;
    let mut html = String::with_capacity(rows as usize * (cols as usize + 16));
    for row in 0..rows {
        html.push_str("<div class=\"term-row\">");
        let mut run = String::new();
        let mut style: Option<Style> = None;
        let flush = |html: &mut String, run: &mut String, style: &Option<Style>| {
            if run.is_empty() {
                return;
            }
            match style.as_ref().map(Style::css).filter(|c| !c.is_empty()) {
                Some(css) => {
                    html.push_str(&format!("<span style=\"{css}\">"));
                    html.push_str(run);
                    html.push_str("</span>");
                }
                None => html.push_str(run),
            }
            run.clear();
        };
        for col in 0..cols {
            let Some(cell) = screen.cell(row, col) else { continue };
            if cell.is_wide_continuation() {
                continue;
            }
            let here = Style {
                fg: cell.fgcolor(),
                bg: cell.bgcolor(),
                bold: cell.bold(),
                italic: cell.italic(),
                underline: cell.underline(),
                inverse: cell.inverse(),
                cursor: show_cursor && row == cur_row && col == cur_col,
            };
            if style.as_ref() != Some(&here) {
                flush(&mut html, &mut run, &style);
                style = Some(here);
            }
            let text = cell.contents();
            if text.is_empty() {
                run.push(' ');
            } else {
                escape_into(&mut run, text);
            }
        }
        flush(&mut html, &mut run, &style);
        html.push_str("</div>");
    }
    html
}

/// The screen's text, rows joined by newlines, trailing spaces trimmed (tests, copy).
pub fn screen_text(screen: &Screen) -> String {
    screen.rows(0, screen.size().1.get()).map(|r| r.trim_end().to_owned()).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: &str) -> Key<'_> {
        Key { key, ..Default::default() }
    }

    #[test]
    fn keys_send_xterm_sequences() {
        assert_eq!(key_bytes(key("a"), false).unwrap(), b"a");
        assert_eq!(key_bytes(key("é"), false).unwrap(), "é".as_bytes());
        assert_eq!(key_bytes(key("Enter"), false).unwrap(), b"\r");
        assert_eq!(key_bytes(key("Backspace"), false).unwrap(), b"\x7f");
        assert_eq!(key_bytes(Key { key: "c", ctrl: true, ..Default::default() }, false).unwrap(), [3]);
        assert_eq!(key_bytes(Key { key: "D", ctrl: true, shift: true, ..Default::default() }, false).unwrap(), [4]);
        assert_eq!(key_bytes(Key { key: "b", alt: true, ..Default::default() }, false).unwrap(), b"\x1bb");
        assert_eq!(key_bytes(key("ArrowUp"), false).unwrap(), b"\x1b[A");
        assert_eq!(key_bytes(key("ArrowUp"), true).unwrap(), b"\x1bOA", "application cursor mode");
        assert_eq!(key_bytes(Key { key: "ArrowLeft", ctrl: true, ..Default::default() }, true).unwrap(), b"\x1b[1;5D");
        assert_eq!(key_bytes(key("F1"), false).unwrap(), b"\x1bOP");
        assert_eq!(key_bytes(key("F5"), false).unwrap(), b"\x1b[15~");
        assert_eq!(key_bytes(key("F12"), false).unwrap(), b"\x1b[24~");
        assert_eq!(key_bytes(key("Delete"), false).unwrap(), b"\x1b[3~");
        assert_eq!(key_bytes(Key { key: "Tab", shift: true, ..Default::default() }, false).unwrap(), b"\x1b[Z");
        assert_eq!(key_bytes(key("Shift"), false), None, "a lone modifier sends nothing");
        assert_eq!(key_bytes(Key { key: "c", meta: true, ..Default::default() }, false), None, "Cmd+C copies");
    }

    #[test]
    fn paste_is_bracketed_when_asked() {
        assert_eq!(paste_bytes("a\nb", false), b"a\rb");
        assert_eq!(paste_bytes("x", true), b"\x1b[200~x\x1b[201~");
    }

    #[test]
    fn grid_fits_the_element() {
        assert_eq!(grid_size(800.0, 480.0, 8.0, 16.0), (100, 30));
        assert_eq!(grid_size(10.0, 10.0, 8.0, 16.0), (20, 5), "never smaller than usable");
        assert_eq!(grid_size(800.0, 480.0, 0.0, 0.0), (20, 5));
    }

    #[test]
    fn screens_render_colours_cursor_and_escape_html() {
        let mut p = new_parser(3, 20, 0);
        p.process(b"\x1b[1;31mred\x1b[0m <b>&");
        let html = screen_html(p.screen(), true);
        assert!(html.contains("<span style=\"color:#d0555a;font-weight:bold;\">red</span>"), "{html}");
        assert!(html.contains("&lt;b&gt;&amp;"), "{html}");
        assert!(html.contains("background:#d8dee9"), "the cursor cell is inverted: {html}");
        assert_eq!(html.matches("class=\"term-row\"").count(), 3);
        assert_eq!(screen_text(p.screen()), "red <b>&\n\n");
    }

    #[test]
    fn alternate_screen_and_256_colours() {
        let mut p = new_parser(2, 10, 0);
        p.process(b"main\x1b[?1049h\x1b[38;5;196malt");
        assert!(screen_text(p.screen()).starts_with("alt"));
        assert!(screen_html(p.screen(), false).contains("color:#ff0000"));
        p.process(b"\x1b[?1049l");
        assert!(screen_text(p.screen()).starts_with("main"));
    }
}
