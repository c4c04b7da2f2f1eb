//! The timeline as SVG: one line per task, one colour per worker, marks
//! for takeovers (red), handovers (blue) and the other changes (grey);
//! every shape has a tooltip.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::html::{clock, escape};
use super::timeline::{Gap, Row, Window, colours};

const LABEL: f64 = 190.0;
const CHART: f64 = 880.0;
const ROW: f64 = 20.0;
const TOP: f64 = 28.0;

/// The SVG of `rows` over `window`.
pub fn render(rows: &[Row], gaps: &[Gap], window: Window) -> String {
    let span = window.to_ms.saturating_sub(window.from_ms).max(1) as f64;
    let x = |ms: u64| LABEL + (ms.saturating_sub(window.from_ms) as f64) / span * CHART;
    let workers: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.segments.iter().map(|s| s.worker.as_str()))
        .collect();
    let colour = colours(workers.iter().copied());
    let colour = |w: &str| colour.get(w).copied().unwrap_or("#999");
    let body = ROW * rows.len().max(1) as f64;
    let height = TOP + body + 34.0;
    let width = LABEL + CHART + 10.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">
<defs><pattern id="gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#bbb"/></pattern></defs>
"##
    );
    if window.known_from_ms > window.from_ms {
        let end = x(window.known_from_ms.min(window.to_ms));
        let _ = write!(
            out,
            r##"<rect x="{LABEL}" y="{TOP}" width="{:.1}" height="{body}" fill="#eee"><title>before the console's history: only the current owners' claims are known</title></rect>"##,
            end - LABEL
        );
    }
    for gap in gaps {
        let _ = writeln!(
            out,
            r##"<rect class="gap" x="{:.1}" y="{TOP}" width="{:.1}" height="{body}" fill="url(#gap)"><title>events may be missing from {} to {}</title></rect>"##,
            x(gap.from_ms),
            (x(gap.to_ms) - x(gap.from_ms)).max(2.0),
            clock(gap.from_ms),
            clock(gap.to_ms)
        );
    }
    ticks(&mut out, window, &x, body);
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let _ = writeln!(
            out,
            r#"<text x="4" y="{:.1}" class="task">{}</text>"#,
            y + 14.0,
            escape(&shorten(&r.task))
        );
        for s in &r.segments {
            let _ = writeln!(
                out,
                r#"<rect class="segment" data-task="{task}" data-worker="{worker}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{task}: {worker} from {} to {}</title></rect>"#,
                x(s.from_ms),
                y + 3.0,
                (x(s.to_ms) - x(s.from_ms)).max(1.0),
                ROW - 6.0,
                colour(&s.worker),
                clock(s.from_ms),
                clock(s.to_ms),
                task = escape(&r.task),
                worker = escape(&s.worker),
            );
        }
        for m in &r.marks {
            let fill = match m.change.as_str() {
                "taken-over" | "lost" => "#c62828",
                "moved" => "#1565c0",
                _ => "#555",
            };
            let mx = x(m.at_ms);
            let _ = writeln!(
                out,
                r#"<path class="mark" data-change="{change}" d="M{mx:.1} {:.1} l-4 -6 h8 z" fill="{fill}"><title>{} {change}: {}</title></path>"#,
                y + 9.0,
                clock(m.at_ms),
                escape(&m.reason),
                change = escape(&m.change),
            );
        }
    }
    let legend_y = TOP + body + 20.0;
    let mut lx = LABEL;
    for w in workers {
        let _ = writeln!(
            out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{legend_y:.1}">{}</text>"#,
            legend_y - 10.0,
            colour(w),
            lx + 16.0,
            escape(w)
        );
        lx += 30.0 + 7.0 * w.chars().count() as f64;
    }
    if rows.is_empty() {
        let _ = writeln!(
            out,
            r##"<text x="{LABEL}" y="{:.1}" fill="#777">no task matches</text>"##,
            TOP + 14.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Time ticks along the top, about one per tenth of the window.
fn ticks(out: &mut String, w: Window, x: &impl Fn(u64) -> f64, body: f64) {
    const STEPS: [u64; 9] = [5, 10, 30, 60, 120, 300, 600, 900, 1800];
    let span_s = w.to_ms.saturating_sub(w.from_ms) / 1000;
    let step = STEPS.into_iter().find(|s| span_s / s <= 10).unwrap_or(3600) * 1000;
    let mut t = w.from_ms.div_ceil(step) * step;
    while t <= w.to_ms {
        let tx = x(t);
        let _ = writeln!(
            out,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#ddd"/><text x="{tx:.1}" y="14" text-anchor="middle" fill="#555">{}</text>"##,
            TOP - 6.0,
            TOP + body,
            clock(t)
        );
        t += step;
    }
    let _ = writeln!(
        out,
        r##"<text x="{:.1}" y="14" text-anchor="end" fill="#555">UTC</text>"##,
        LABEL - 6.0
    );
}

/// Long task names are cut to fit the label column.
fn shorten(name: &str) -> String {
    const MAX: usize = 28;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let head: String = name.chars().take(MAX - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::timeline::{Mark, Segment};

    #[test]
    fn segments_and_marks_are_drawn_with_escaped_tooltips() {
        let rows = [Row {
            task: "a<b".into(),
            segments: vec![Segment {
                worker: "w&1".into(),
                from_ms: 0,
                to_ms: 60_000,
            }],
            marks: vec![Mark {
                at_ms: 30_000,
                change: "taken-over".into(),
                worker: "w&1".into(),
                from: Some("w2".into()),
                reason: "w&1 took it over".into(),
            }],
        }];
        let w = Window {
            from_ms: 0,
            to_ms: 60_000,
            known_from_ms: 0,
        };
        let svg = render(&rows, &[], w);
        assert!(svg.contains(r#"data-worker="w&amp;1""#), "{svg}");
        assert!(svg.contains("a&lt;b"), "{svg}");
        assert!(svg.contains(r#"data-change="taken-over""#), "{svg}");
        assert!(svg.contains("00:00:30"), "a tick every 5 or 10 s: {svg}");
        assert!(!svg.contains("w&1"), "nothing unescaped: {svg}");
    }
}
