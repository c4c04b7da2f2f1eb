//! A steady cluster restarts nothing: `tenure worker`s at the shortest
//! session the CLI accepts, with the grace it picks by itself, watched for
//! a while as a user would.

use std::time::Duration;

use super::runlog::{RunLog, script};

use super::{Target, expect_within};

/// The shortest session timeout both backends grant and `tenure worker`
/// takes with room for a grace: etcd grants at least a 1 s lease; on
/// ZooKeeper (tick 200 ms, given with `--zk-tick-time`) the worker refuses
/// below about 870 ms. At 900 ms the default grace is 10 ms and the margin
/// for a slow answer about 60 ms: steady when run alone, but one run of
/// four fenced while the rest of the suite loaded both cores, so the suite
/// keeps to 1 s (BENCHMARKS.md, "A steady cluster").
fn shortest_sessions(_backend: &str) -> &'static [&'static str] {
    &["1s"]
}

/// How long the settled cluster is watched.
const WATCH: Duration = Duration::from_secs(10);

/// Three workers, six tasks, the shortest sessions: once every task runs,
/// nothing is stopped or started again while nothing changes, and no
/// worker reports its session at risk.
pub fn steady_cluster_restarts_nothing_at_the_shortest_session(t: &Target) {
    for session in shortest_sessions(t.backend) {
        let c = t.cluster("steady");
        let file = c.path("runs.log");
        let script = script(&file);
        let options = ["--session-timeout", session];
        let workers: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|id| c.worker_with(id, &options, &script))
            .collect();
        let procs: Vec<_> = workers.iter().collect();
        for task in ["t1", "t2", "t3", "t4", "t5", "t6"] {
            c.ok(&["tasks", "add", task]);
        }
        expect_within(Duration::from_secs(20), "six tasks started", &procs, || {
            RunLog::read(&file).starts().len() >= 6
        });
        // Let the placement settle (the leader balances two per worker).
        std::thread::sleep(Duration::from_secs(2));
        let settled = RunLog::read(&file).starts().len();
        std::thread::sleep(WATCH);
        let log = RunLog::read(&file);
        let after = log.starts().len();
        let at_risk: Vec<String> = workers
            .iter()
            .filter(|w| w.log().contains("session at risk"))
            .map(|w| w.log())
            .collect();
        assert!(
            at_risk.is_empty(),
            "[{}, session {session}] a worker stopped its handlers in a steady cluster:\n{}",
            t.backend,
            at_risk.join("\n")
        );
        assert_eq!(
            after, settled,
            "[{}, session {session}] commands started again in a steady cluster ({settled} → {after} starts in {WATCH:?})",
            t.backend
        );
        eprintln!(
            "measured [{}]: session {session}: {after} starts for 6 tasks, none in {WATCH:?} once settled",
            t.backend
        );
    }
}
