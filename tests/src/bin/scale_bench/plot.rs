//! The benchmark's pictures, as SVG files (`--plots DIR`): cold start and
//! takeover against the task count (one line per backend, worker count
//! and session), and for each backend an ownership timeline of the first
//! run's takeover and handback: one row per task, one colour per worker,
//! the cut, the server's deletion of the cut session's node and the
//! return marked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plotters::prelude::*;

use crate::phases::{Run, Timeline};
use crate::report::Measured;
use crate::stats::Spread;
use tenure_tests::sim::history::Entry;

/// Pixels of a plot.
const SIZE: (u32, u32) = (900, 560);

fn text(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// A chart with the title and the margins every plot has.
fn builder<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60);
    b
}

/// Draws the legend of the labelled series.
fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(text)
}

/// Writes every plot into `dir`; returns the files written.
///
/// # Errors
/// When a file cannot be written.
pub fn write_all(dir: &Path, all: &[Measured]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(text)?;
    let mut written = Vec::new();
    for (name, title, of) in [
        (
            "cold-start.svg",
            "cold start (ms) against tasks",
            (|r: &Run| r.cold.took) as fn(&Run) -> Duration,
        ),
        ("takeover.svg", "takeover (ms) against tasks", |r: &Run| {
            r.takeover.took
        }),
    ] {
        let path = dir.join(name);
        against_tasks(&path, title, all, of)?;
        written.push(path);
    }
    let mut drawn = Vec::new();
    for m in all {
        if drawn.contains(&m.backend) {
            continue;
        }
        if let Some(run) = m.runs.first() {
            drawn.push(m.backend);
            let path = dir.join(format!("timeline-{}.svg", m.backend.to_lowercase()));
            let title = format!(
                "{}: {} tasks × {} workers, takeover and handback",
                m.backend, m.setup.tasks, m.setup.workers
            );
            timeline(&path, &title, &run.timeline)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// One line per backend, worker count and session: the median of `of`
/// over the runs, against the task count (log scale).
fn against_tasks(
    path: &Path,
    title: &str,
    all: &[Measured],
    of: fn(&Run) -> Duration,
) -> Result<(), String> {
    let mut lines: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for m in all {
        let samples: Vec<f64> = m.runs.iter().map(|r| of(r).as_secs_f64() * 1e3).collect();
        if let Some(spread) = Spread::of(&samples) {
            let s = &m.setup;
            let key = format!(
                "{}, {} workers, {} ms session",
                m.backend,
                s.workers,
                s.session.as_millis()
            );
            lines
                .entry(key)
                .or_default()
                .push((s.tasks as f64, spread.median));
        }
    }
    let points = lines.values().flatten();
    let x_max = points.clone().map(|p| p.0).fold(10.0, f64::max) * 1.5;
    let y_max = points.map(|p| p.1).fold(10.0, f64::max) * 1.1;
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(text)?;
    let mut chart = builder(&root, title)
        .build_cartesian_2d((1f64..x_max).log_scale(), 0f64..y_max)
        .map_err(text)?;
    chart
        .configure_mesh()
        .x_desc("tasks")
        .y_desc("ms")
        .draw()
        .map_err(text)?;
    for (i, (name, mut points)) in lines.into_iter().enumerate() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let colour = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(text)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))
            .map_err(text)?;
    }
    legend(&mut chart)?;
    root.present().map_err(text)
}

/// Who ran which task when, one row per task, one colour per worker, from
/// a second before the cut until the handback was balanced.
fn timeline(path: &Path, title: &str, t: &Timeline) -> Result<(), String> {
    let from = t.cut_ms.saturating_sub(1000);
    let to = t.end_ms + 500;
    let mut rows: BTreeMap<&str, usize> = BTreeMap::new();
    let mut workers: BTreeMap<&str, usize> = BTreeMap::new();
    let mut open: BTreeMap<(&str, u64), (u64, &str)> = BTreeMap::new();
    let mut bars: Vec<(usize, u64, u64, usize)> = Vec::new();
    for e in &t.entries {
        match e {
            Entry::Start {
                at_ms,
                task,
                worker,
                token,
            } => {
                let next = rows.len();
                rows.entry(task.as_str()).or_insert(next);
                let next = workers.len();
                workers.entry(worker.as_str()).or_insert(next);
                open.insert((task.as_str(), *token), (*at_ms, worker.as_str()));
            }
            Entry::Stop {
                at_ms, task, token, ..
            } => {
                if let Some((start, worker)) = open.remove(&(task.as_str(), *token)) {
                    bars.push((rows[task.as_str()], start, *at_ms, workers[worker]));
                }
            }
        }
    }
    for ((task, _), (start, worker)) in open {
        bars.push((rows[task], start, to, workers[worker]));
    }
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(text)?;
    let mut chart = builder(&root, title)
        .build_cartesian_2d(
            0f64..(to - from) as f64 / 1e3,
            0f64..rows.len().max(1) as f64,
        )
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("seconds from a second before the cut")
        .y_desc("task")
        .draw()
        .map_err(text)?;
    let secs = |ms: u64| ms.clamp(from, to).saturating_sub(from) as f64 / 1e3;
    chart
        .draw_series(bars.iter().filter(|b| b.2 > from).map(|&(row, a, b, w)| {
            let colour = Palette99::pick(w).filled();
            Rectangle::new([(secs(a), row as f64), (secs(b), row as f64 + 1.0)], colour)
        }))
        .map_err(text)?;
    let height = rows.len().max(1) as f64;
    for (at, label, colour) in [
        (t.cut_ms, "cut", RED),
        (t.deleted_ms, "server deleted the session's node", BLACK),
        (t.returned_ms, "return", BLUE),
    ] {
        let x = secs(at);
        chart
            .draw_series(LineSeries::new(
                [(x, 0.0), (x, height)],
                colour.stroke_width(2),
            ))
            .map_err(text)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
    }
    legend(&mut chart)?;
    root.present().map_err(text)
}
