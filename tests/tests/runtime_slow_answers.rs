//! Slow answers, on the memory backend under paused tokio time: the server
//! applies each request at once (the session stays alive), the worker gets
//! the answer late, and counts its session's life from the send time of
//! its calls. Every handler must be gone by its stop instant: the send
//! time of the latest answered request + session timeout − stop lead
//! (`tenure_tests::sim::stop_instants`, counted from every answered
//! request, the server's view).
//!
//! The case the guard's wake-up on a lifted fence exists for, on paper
//! (2 s session: stop lead 700 ms, so stop instant = send + 1300 ms; the
//! heartbeat of 333.3 ms takes 334 ms on tokio's millisecond timer). W1
//! resumes at R after a cut long enough for the guard to see a risk;
//! reads are answered in `r` = 100 ms, writes in `w` = 1150 ms:
//!
//! | when | what |
//! |---|---|
//! | R | heartbeat sent (answered R+100: stop instant R+1300) |
//! | R+100 | reclaim: read of the fencing counter (answered R+200), then its multi (sent R+200, answered R+1350) |
//! | R+700 | every answer now takes `w`: the next heartbeat's too |
//! | R+1300 | the guard sees the stop instant reached: risk; it sleeps a heartbeat |
//! | R+1350 | the reclaim answered: the worker counts from its start (R+100), unfences and starts T0, stop instant R+1400 by its count, R+1500 by the server's (the multi was sent at R+200); the next answer comes at R+2500 |
//! | R+1400 | the guard, woken by the lifted fence, stops T0 |
//! | R+1634 | when a guard that sleeps its heartbeat out would: 134 ms late |
//!
//! The window: `r` < 167 ms and 1300 − 2r < `w` < 1300 − r. The reclaim's
//! read must be faster than the heartbeats around it: with one delay for
//! every answer the worker's reclaim (two requests, counted from the first)
//! leaves the server's stop instant a whole answer later than the worker's,
//! more than a heartbeat, so a late guard would go unseen.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tenure_core::{TaskSpec, Timing};
use tenure_tests::runtime::{Cluster, SESSION, task, task_name};
use tenure_tests::sim::stop_instants::Run;

/// Long enough a cut that the guard has seen the stop instant of the last
/// heartbeat before it (at most 334 ms before the cut) pass, short enough
/// that the session lives.
const CUT: Duration = Duration::from_millis(1500);
/// When, after the resume, every answer becomes as slow as a write's.
const ALL_SLOW_AFTER: Duration = Duration::from_millis(700);
/// How long the answers stay slow.
const SLOW: Duration = Duration::from_secs(6);

/// Answers of reads and writes after the resume, in ms; then of both.
/// Inside the window, and two with one delay for every answer.
const CASES: [(u64, u64); 7] = [
    (100, 1125),
    (100, 1150),
    (100, 1175),
    (150, 1050),
    (150, 1100),
    (550, 550),
    (1000, 1000),
];

/// W0 leads; W1 runs T0 (pinned) with its answers logged, is cut off for
/// [`CUT`], resumes with slow answers, and gets fast answers again after
/// [`SLOW`]. Returns W1's handler runs, and when it resumed.
async fn cut_and_resume_slow(reads: Duration, writes: Duration) -> (Vec<Run>, u64) {
    let mut c = Cluster::new().await;
    c.join("W0").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = c.join_logged("W1").await;
    let spec = TaskSpec::new(task_name(0)).unwrap().pinned("W1").unwrap();
    c.admin.add_task(spec).await.unwrap();
    c.wait_all_running(1, SESSION).await;
    tokio::time::sleep(SESSION).await;

    let w1 = c.member("W1").store.clone();
    w1.suspend();
    tokio::time::sleep(CUT).await;
    w1.delay_answers(reads);
    w1.delay_write_answers(writes);
    let resumed = c.now_ms();
    w1.resume();
    tokio::time::sleep(ALL_SLOW_AFTER).await;
    w1.delay_answers(writes);
    tokio::time::sleep(SLOW - ALL_SLOW_AFTER).await;

    w1.delay_answers(Duration::ZERO);
    c.wait_until("T0 runs on W1 again", SESSION, |c| c.on("W1").len() == 1)
        .await;
    let token = c.running()[&task(0)].1;
    tokio::time::sleep(SESSION * 2).await;
    assert_eq!(c.running()[&task(0)].1, token, "runs on, answered at once");
    let runs = c.runs_of("W1", &log);
    c.stop().await;
    (runs, resumed)
}

#[tokio::test(start_paused = true)]
async fn a_handler_started_close_to_its_stop_instant_is_stopped_by_it() {
    let heartbeat = Timing::for_session(SESSION).heartbeat.as_millis() as u64;
    let mut close_calls = 0;
    for (r, w) in CASES {
        let (runs, resumed) =
            cut_and_resume_slow(Duration::from_millis(r), Duration::from_millis(w)).await;
        let late: Vec<_> = runs.iter().filter_map(|run| run.late.as_ref()).collect();
        assert!(late.is_empty(), "reads {r} ms, writes {w} ms: {late:#?}");
        for run in runs.iter().filter(|run| run.start_ms > resumed) {
            let headroom = run.stop_instant_at_start.unwrap() - run.start_ms;
            println!(
                "reads {r} ms, writes {w} ms: token {} ran R+{}..{:?} ms, stop instant {headroom} ms after its start",
                run.token,
                run.start_ms - resumed,
                run.stop_ms.map(|s| s - resumed),
            );
            if headroom < heartbeat {
                close_calls += 1;
            }
        }
    }
    assert!(
        close_calls > 0,
        "no handler started within a heartbeat of its stop instant: the cases no longer reach the window (see the module docs)"
    );
}
