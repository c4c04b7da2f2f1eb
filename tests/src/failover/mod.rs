//! Process-level failover against real servers: worker processes (the
//! `failover_worker` program) that log every handler start and stop to one
//! shared run log, the checker of that log, and the scenarios every
//! backend runs unchanged (SIGKILL of a worker, a worker's return, server
//! faults, takeover measurement).

mod invariants;
mod measure;
mod process;
mod runlog;
mod scenario;

pub use invariants::{Violation, ViolationKind, check_runs, violations};
pub use measure::{measure_takeover, print_summary, runs_from_env, summary};
pub use process::{CONNECT_TIMEOUT, FailoverEnv, StoreKind, WorkerProcess};
pub use runlog::{Kill, Run, RunLog, RunLogWriter, unix_nanos};
pub use scenario::{Scenario, TASK_1, TASKS, server_fault, sigkill_takeover_and_return};
