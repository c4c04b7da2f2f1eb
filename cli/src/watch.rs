//! `tenure watch`: the status table and the ownership events, live.
//!
//! On a terminal the screen is redrawn: the status table, then the latest
//! events. Otherwise (a pipe, a file) the status table is printed each time
//! it changes and every event as one line; with `--json`, one JSON object
//! per line (`"type": "status"` or `"type": "event"`). It runs until
//! Ctrl-C or SIGTERM (exit 0), or until `--events N` events or `--for
//! DURATION` have passed.

use std::collections::VecDeque;
use std::io::IsTerminal;

use futures::StreamExt;
use tenure_core::Admin;
use tenure_core::ClusterStatus;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};
use tracing::warn;

use crate::args::WatchArgs;
use crate::error::{CliError, CliResult};
use crate::output::schema::{EventDoc, StatusDoc};
use crate::output::{emit, emit_json, table};

/// How many events the terminal view keeps on screen.
const LOG_LINES: usize = 20;

/// How the view is printed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Terminal,
    Lines,
    Json,
}

/// Runs `tenure watch`.
///
/// # Errors
/// The event stream ending (the store closed), signal setup failures.
pub async fn watch(admin: &Admin, cluster: &str, args: WatchArgs) -> CliResult {
    let mode = if args.json {
        Mode::Json
    } else if std::io::stdout().is_terminal() {
        Mode::Terminal
    } else {
        Mode::Lines
    };
    let mut events = Box::pin(admin.ownership_events());
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let far = Instant::now() + std::time::Duration::from_secs(100 * 365 * 86_400);
    let deadline = args.duration.map_or(far, |d| Instant::now() + d);
    let mut tick = interval(args.interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut view = View {
        mode,
        cluster,
        last: None,
        log: VecDeque::new(),
    };
    let mut seen = 0u64;
    if args.events == Some(0) {
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = tick.tick() => view.refresh(admin).await?,
            event = events.next() => {
                let Some(event) = event else {
                    return Err(CliError::Unreachable(
                        "the ownership event stream ended: the store connection is closed".into(),
                    ));
                };
                match mode {
                    Mode::Json => emit_json(&EventDoc::from(&event))?,
                    Mode::Lines => emit(&format!("{}\n", table::event(&event)))?,
                    Mode::Terminal => {
                        view.log.push_back(table::event(&event));
                        if view.log.len() > LOG_LINES {
                            view.log.pop_front();
                        }
                    }
                }
                seen += 1;
                view.refresh(admin).await?;
                if args.events.is_some_and(|n| seen >= n) {
                    return Ok(());
                }
            }
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
            () = sleep_until(deadline) => return Ok(()),
        }
    }
}

struct View<'a> {
    mode: Mode,
    cluster: &'a str,
    last: Option<ClusterStatus>,
    log: VecDeque<String>,
}

impl View<'_> {
    /// Re-reads the status and prints it if it changed (always on a
    /// terminal, where the ages move).
    async fn refresh(&mut self, admin: &Admin) -> CliResult {
        let status = match admin.status().await {
            Ok(status) => status,
            Err(e) => {
                warn!(error = %e, "cannot read the status; retrying");
                return Ok(());
            }
        };
        let changed = self.last.as_ref() != Some(&status);
        match self.mode {
            Mode::Terminal => {
                let mut screen = String::from("\x1b[H\x1b[2J");
                screen.push_str(&table::status(self.cluster, &status));
                screen.push_str("\nEVENTS\n");
                for line in &self.log {
                    screen.push_str(line);
                    screen.push('\n');
                }
                emit(&screen)?;
            }
            Mode::Lines if changed => emit(&format!("{}\n", table::status(self.cluster, &status)))?,
            Mode::Json if changed => emit_json(&StatusDoc::new(self.cluster, &status))?,
            Mode::Lines | Mode::Json => {}
        }
        self.last = Some(status);
        Ok(())
    }
}
