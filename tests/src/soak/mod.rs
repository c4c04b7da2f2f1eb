//! A black-box soak of `tenure worker` on real servers: a ZooKeeper server
//! (or 3-node ensemble) or an etcd member from the test harness, three or
//! more worker processes each connected through loopback proxies of its
//! own, and a seeded schedule of faults (SIGKILL, SIGTERM, SIGSTOP and
//! SIGCONT of a worker, a proxy holding every byte shorter and longer
//! than the session, task add, remove, pause and resume through `tenure
//! tasks`, a server restart, the leader's crash in an ensemble).
//!
//! The supervised command is a shell script that records its own start
//! (task, fencing token, pid) and, from a trap, its exit; a monitor thread
//! learns from `/proc` when each one really ended. The checks use only
//! those records, so they judge what an operator's command would see.
//!
//! | module | what it holds |
//! |---|---|
//! | `options` | the command line ([`SoakOptions`]) |
//! | `schedule` | the seeded faults ([`Schedule`], [`Fault`]) |
//! | `servers` | the servers and server faults |
//! | `fleet` | the worker processes, their proxies, `tenure tasks` |
//! | `children` | the command's script and its lines |
//! | `monitor` | the `/proc` watcher and the guard that kills leftovers |
//! | `history` | what the soak did and when |
//! | `stranded` | gaps in each task's running, per fault |
//! | `check` | the checks ([`Verdict`]) |
//! | `driver` | the course of a soak ([`run`]) |
//! | `report` | the summary |

mod check;
mod children;
mod driver;
mod fleet;
mod history;
mod monitor;
mod options;
mod report;
mod schedule;
mod servers;
mod stranded;

pub use check::{Finding, OUTLIVE_BOUND, Verdict};
pub use driver::{Outcome, run};
pub use history::History;
pub use options::SoakOptions;
pub use report::{replay, summary};
pub use schedule::{Fault, FaultKind, Schedule};
