//! The ECAS story: an application deployed as ECAS_1 and ECAS_2 runs
//! TASK_1..TASK_4. Both workers compete for the tasks, the strategy spreads
//! them, the host of ECAS_1 dies and ECAS_2 takes its tasks over, then
//! ECAS_1 comes back and gets its share back by graceful handoff.
//!
//! ```sh
//! cargo run --example ecas                                                  # in-memory
//! cargo run --example ecas -- --backend zookeeper --connect 127.0.0.1:2181
//! cargo run --example ecas --features etcd -- --backend etcd --connect 127.0.0.1:2379
//! ```
//!
//! Options: `--session-ms N` (default 2000), `--cluster NAME` (default
//! `ecas`, data under `/tenure/NAME`). The ZooKeeper client is always built
//! into the demo; etcd needs `--features etcd`, which needs `protoc`
//! (Debian: `protobuf-compiler libprotobuf-dev`).
//!
//! With a real server the crash is real as the server sees it: ECAS_1's
//! worker stops without handing anything off and its TCP connections (which
//! go through a loopback forwarder in this process) are closed and refused
//! from then on, so the server ends its session when the session timeout
//! runs out.

mod backend;
mod demo;
#[cfg(feature = "etcd")]
mod etcd;
mod proxy;

use std::sync::Arc;

use backend::{Backend, Error, Options};

/// Without the `etcd` feature: say how to get it.
#[cfg(not(feature = "etcd"))]
mod etcd {
    use std::time::Duration;

    use tenure::DynStore;

    use crate::backend::Error;

    pub async fn connect(_: &[String], _: Duration, _: Duration) -> Result<DynStore, Error> {
        Err("this demo was built without etcd: rebuild with \
             `cargo run --example ecas --features etcd -- --backend etcd --connect HOST:PORT` \
             (building the etcd client needs protoc: apt-get install protobuf-compiler libprotobuf-dev)"
            .into())
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let options = Options::parse();
    match run(&options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> Result<(), Error> {
    let backend = Backend::start(options)?;
    let say: demo::Say = Arc::new(|line| println!("{line}"));
    let report = demo::run(&backend, &options.cluster, say).await?;
    println!(
        "{} backend: takeover {:.2}s after the crash (session timeout {:?}), handback in {:.2}s",
        options.backend,
        report.takeover.as_secs_f64(),
        report.session_timeout,
        report.handback.as_secs_f64(),
    );
    Ok(())
}
