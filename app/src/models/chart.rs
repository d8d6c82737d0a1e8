//! Charts as SVG text: the server renders them into the page and the
//! browser re-renders them from fresh points, with the same function. One
//! line per series over a fixed time window, the window's extremes as
//! labels, a gap where no point was taken (a pass missed, or nothing served).

use domain::wire::{Point, SeriesView};

/// A value in its unit, short (`12 ms`, `1.2 GB`, `99.95 %`, `340 req`).
pub fn format_value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" => {
            let units = ["B", "KB", "MB", "GB", "TB"];
            let mut v = v;
            let mut i = 0;
            while v.abs() >= 1024.0 && i < units.len() - 1 {
                v /= 1024.0;
                i += 1;
            }
            if i == 0 {
                format!("{v:.0} {}", units[i])
            } else {
                format!("{v:.1} {}", units[i])
            }
        }
        "%" if (99.0..100.0).contains(&v) => format!("{v:.2} %"),
        "%" => format!("{v:.1} %"),
        "ms" if v < 10.0 => format!("{v:.1} ms"),
        "ms" => format!("{v:.0} ms"),
        other => format!("{v:.0} {other}"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `HH:MM` (or `MM-DD` over a long window) of a unix time, in UTC.
fn time_label(t: i64, long: bool) -> String {
    let dt = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    if long {
        dt.format("%m-%d").to_string()
    } else {
        dt.format("%H:%M").to_string()
    }
}

/// The series drawn between unix times `from` and `to` in a `width`×`height`
/// box. Points further apart than `gap` seconds are not joined.
pub fn svg(series: &SeriesView, from: i64, to: i64, gap: i64, width: u32, height: u32) -> String {
    let (w, h) = (f64::from(width), f64::from(height));
    let (left, right, top, bottom) = (56.0, 8.0, 22.0, 18.0);
    let span = (to - from).max(1) as f64;
    let points: Vec<&Point> = series.points.iter().filter(|p| p.t >= from && p.t <= to && p.v.is_finite()).collect();
    let max = points.iter().map(|p| p.v).fold(f64::MIN, f64::max);
    let min = points.iter().map(|p| p.v).fold(f64::MAX, f64::min);
    let (lo, hi) = if points.is_empty() {
        (0.0, 1.0)
    } else if series.unit == "%" {
        (0.0_f64.min(min), 100.0_f64.max(max))
    } else {
        (0.0_f64.min(min), if max > 0.0 { max * 1.1 } else { 1.0 })
    };
    let x = |t: i64| left + (t - from) as f64 / span * (w - left - right);
    let y = |v: f64| top + (1.0 - (v - lo) / (hi - lo).max(f64::EPSILON)) * (h - top - bottom);
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut last: Option<i64> = None;
    for p in &points {
        let joined = last.is_some_and(|l| p.t - l <= gap);
        if !joined && !current.is_empty() {
            paths.push(std::mem::take(&mut current));
        }
        current.push_str(&format!("{}{:.1},{:.1} ", if joined { "L" } else { "M" }, x(p.t), y(p.v)));
        last = Some(p.t);
    }
    if !current.is_empty() {
        paths.push(current);
    }
    let title = escape(&series.title);
    let latest = points.last().map(|p| format_value(p.v, &series.unit)).unwrap_or_else(|| "no data".into());
    let long = to - from > 2 * 86_400;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-metric=\"{metric}\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{title}: {latest}\">\
         <text x=\"{left}\" y=\"14\" class=\"chart-title\">{title}</text>\
         <text x=\"{tx:.0}\" y=\"14\" text-anchor=\"end\" class=\"chart-latest\">{latest}</text>\
         <line x1=\"{left}\" y1=\"{yb:.1}\" x2=\"{xr:.1}\" y2=\"{yb:.1}\" class=\"chart-axis\"/>\
         <text x=\"{lx:.0}\" y=\"{ytop:.1}\" text-anchor=\"end\" class=\"chart-label\">{hi_label}</text>\
         <text x=\"{lx:.0}\" y=\"{yb:.1}\" text-anchor=\"end\" class=\"chart-label\">{lo_label}</text>\
         <text x=\"{left}\" y=\"{yt:.1}\" class=\"chart-label\">{from_label}</text>\
         <text x=\"{xr:.1}\" y=\"{yt:.1}\" text-anchor=\"end\" class=\"chart-label\">{to_label}</text>",
        metric = escape(&series.metric),
        tx = w - right,
        yb = h - bottom,
        xr = w - right,
        lx = left - 4.0,
        ytop = top + 4.0,
        yt = h - 4.0,
        hi_label = escape(&format_value(hi, &series.unit)),
        lo_label = escape(&format_value(lo, &series.unit)),
        from_label = time_label(from, long),
        to_label = time_label(to, long),
    );
    for d in paths {
        out.push_str(&format!("<path d=\"{}\" class=\"chart-line\" fill=\"none\"/>", d.trim_end()));
    }
    // A point with no neighbour draws no line: it is marked, as is the latest one.
    for (i, p) in points.iter().enumerate() {
        let alone = (i == 0 || p.t - points[i - 1].t > gap) && points.get(i + 1).is_none_or(|n| n.t - p.t > gap);
        if alone || i + 1 == points.len() {
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" class=\"chart-point\"/>",
                x(p.t),
                y(p.v)
            ));
        }
    }
    if points.is_empty() {
        out.push_str(&format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" class=\"chart-empty\">No samples in this range yet</text>",
            (left + w - right) / 2.0,
            (top + h - bottom) / 2.0
        ));
    }
    out.push_str("</svg>");
    out
}

/// The window a range covers, ending now, and the gap that breaks a line.
pub fn window(range: &str, now: i64) -> (i64, i64, i64) {
    let (secs, width) = match range {
        "1h" => (3600, 30),
        "7d" => (7 * 86_400, 1800),
        "30d" => (30 * 86_400, 7200),
        _ => (86_400, 300),
    };
    (now - secs, now, width * 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, f64)], unit: &str) -> SeriesView {
        SeriesView {
            metric: "latency_ms".into(),
            title: "Response <time>".into(),
            unit: unit.into(),
            points: points.iter().map(|&(t, v)| Point { t, v }).collect(),
        }
    }

    #[test]
    fn a_series_becomes_lines_broken_at_gaps_and_labelled_with_its_latest_value() {
        let s = series(&[(1000, 10.0), (1030, 20.0), (1060, 15.0), (2000, 30.0)], "ms");
        let out = svg(&s, 1000, 2000, 90, 600, 160);
        assert!(out.starts_with("<svg") && out.ends_with("</svg>"));
        assert_eq!(out.matches("<path").count(), 2, "a gap splits the line: {out}");
        assert_eq!(out.matches("<circle").count(), 1, "the lone latest point is marked: {out}");
        assert!(out.contains("30 ms"), "the latest value: {out}");
        assert!(out.contains("Response &lt;time&gt;"), "titles are escaped: {out}");
        assert!(!out.contains("NaN"));
    }

    #[test]
    fn an_empty_range_says_so_and_units_read_well() {
        let out = svg(&series(&[], "%"), 0, 3600, 90, 600, 160);
        assert!(out.contains("No samples") && out.contains("no data"), "{out}");
        assert_eq!(format_value(1536.0 * 1024.0 * 1024.0, "bytes"), "1.5 GB");
        assert_eq!(format_value(99.953, "%"), "99.95 %");
        assert_eq!(format_value(4.25, "ms"), "4.2 ms");
        assert_eq!(window("1h", 10_000), (6400, 10_000, 90));
    }
}
