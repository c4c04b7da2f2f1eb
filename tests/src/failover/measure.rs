//! Measuring the takeover after SIGKILL: the scenario repeated on fresh
//! clusters, summarised as median, minimum and maximum.

use std::time::Duration;

use super::process::FailoverEnv;
use super::scenario::{Scenario, TASK_1, kill_owner_of_task_1};

/// Repeats the SIGKILL takeover `times` times, each on a fresh cluster,
/// checking the log each time; returns the takeover times.
pub async fn measure_takeover(env: &FailoverEnv, times: usize) -> Vec<Duration> {
    let mut takeovers = Vec::with_capacity(times);
    for i in 0..times {
        let mut scenario = Scenario::new(env).await;
        let (takeover, victim, survivor) = kill_owner_of_task_1(&mut scenario).await;
        scenario.wait_balanced(&[survivor.as_str()]).await;
        scenario.terminate_all().await;
        eprintln!(
            "{} run {}: {survivor} took {TASK_1} over {takeover:?} after {victim} was killed",
            env.kind.name(),
            i + 1
        );
        takeovers.push(takeover);
    }
    takeovers
}

/// Median, minimum and maximum.
pub fn summary(samples: &[Duration]) -> (Duration, Duration, Duration) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    (median, sorted[0], sorted[sorted.len() - 1])
}

/// How many kills a measurement makes: `FAILOVER_RUNS`, default 7.
pub fn runs_from_env() -> usize {
    std::env::var("FAILOVER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(7)
}

/// Prints a measurement's summary next to the session timeout (or TTL).
pub fn print_summary(backend: &str, timeout_name: &str, timeout: Duration, takeovers: &[Duration]) {
    let (median, min, max) = summary(takeovers);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    eprintln!(
        "{backend}: takeover after SIGKILL over {} kills: median {:.0} ms, min {:.0} ms, max {:.0} ms ({timeout_name} {:.0} ms)",
        takeovers.len(),
        ms(median),
        ms(min),
        ms(max),
        ms(timeout)
    );
}
