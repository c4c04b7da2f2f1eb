//! What a soak runs: backend, servers, workers, session, seed, length.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::failover::StoreKind;

/// A black-box soak: real servers, `tenure worker` processes behind
/// loopback proxies, a seeded schedule of faults, and checks of what the
/// supervised commands recorded themselves.
#[derive(Clone, Debug, Parser)]
#[command(name = "soak")]
pub struct SoakOptions {
    /// The `tenure` program to run (default: `tenure` next to this
    /// program, as cargo builds both into one directory).
    #[arg(long)]
    pub tenure: Option<PathBuf>,

    /// The backend: zookeeper (standalone, or a 3-node ensemble with
    /// `--members 3`) or etcd (one member).
    #[arg(long, default_value = "zookeeper")]
    pub backend: StoreKind,

    /// Server members: 1, or 3 for a ZooKeeper ensemble (which adds leader
    /// kills to the faults).
    #[arg(long, default_value_t = 1)]
    pub members: usize,

    /// Worker processes (at least 3).
    #[arg(long, default_value_t = 3)]
    pub workers: usize,

    /// Tasks at the start.
    #[arg(long, default_value_t = 6)]
    pub tasks: usize,

    /// The session timeout in seconds the workers ask for (1, 2, 10, …).
    #[arg(long = "session-secs", default_value_t = 2.0)]
    pub session_secs: f64,

    /// The seed of the fault schedule (default: drawn from the clock and
    /// printed, so the run can be replayed).
    #[arg(long)]
    pub seed: Option<u64>,

    /// Stop injecting faults after this many seconds.
    #[arg(long = "duration-secs", default_value_t = 60)]
    pub duration_secs: u64,

    /// Stop injecting faults after this many (whichever comes first).
    #[arg(long, default_value_t = 1000)]
    pub faults: usize,

    /// The command also starts a descendant in a session of its own
    /// (`setsid`), which must end with its run like the command.
    #[arg(long)]
    pub setsid_helper: bool,

    /// Copy the children's log, the workers' output and the admin log
    /// into this directory at the end.
    #[arg(long)]
    pub logs: Option<PathBuf>,
}

impl SoakOptions {
    /// The options of a short run: `backend` with `session` for about
    /// `duration`, `seed` pinned.
    pub fn short(tenure: PathBuf, backend: StoreKind, session: Duration, seed: u64) -> Self {
        SoakOptions {
            tenure: Some(tenure),
            backend,
            members: 1,
            workers: 3,
            tasks: 6,
            session_secs: session.as_secs_f64(),
            seed: Some(seed),
            duration_secs: 25,
            faults: 1000,
            setsid_helper: false,
            logs: None,
        }
    }

    /// The session timeout.
    pub fn session(&self) -> Duration {
        Duration::from_secs_f64(self.session_secs)
    }

    /// Refuses options the soak cannot run.
    ///
    /// # Errors
    /// A message naming the option.
    pub fn validate(&self) -> Result<(), String> {
        if self.workers < 3 {
            return Err(format!("--workers {} (at least 3)", self.workers));
        }
        if self.tasks == 0 || self.tasks > 50 {
            return Err(format!("--tasks {} (1 to 50)", self.tasks));
        }
        if !(0.4..=60.0).contains(&self.session_secs) {
            return Err(format!("--session-secs {} (0.4 to 60)", self.session_secs));
        }
        match (self.backend, self.members) {
            (_, 1) | (StoreKind::Zookeeper, 3) => Ok(()),
            (backend, n) => Err(format!(
                "--members {n} with {} (1, or 3 for zookeeper)",
                backend.name()
            )),
        }
    }

    /// The `tenure` program: `--tenure`, else next to this program.
    pub fn tenure_program(&self) -> PathBuf {
        self.tenure.clone().unwrap_or_else(|| {
            let me = std::env::current_exe().expect("the path of this program");
            me.with_file_name("tenure")
        })
    }

    /// The seed: `--seed`, else from the clock.
    pub fn seed(&self) -> u64 {
        self.seed
            .unwrap_or_else(|| (crate::failover::unix_nanos() % u128::from(u64::MAX)) as u64)
    }
}
