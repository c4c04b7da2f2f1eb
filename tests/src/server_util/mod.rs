//! Helpers for tests that run real server processes (ZooKeeper, etcd):
//! loopback ports, scratch directories, processes that die with the test
//! binary, bounded waits and a raw request over TCP.
//!
//! # Why servers never outlive the test binary
//! A server shared by a test binary sits in a `static`, and Rust never drops
//! statics, so no `Drop` runs at exit. Instead every server is started as
//! `setpriv --pdeathsig KILL -- <program> <args>`: the kernel kills it the
//! moment its parent dies. The parent-death signal follows the *thread*
//! that forked, and test threads end with their test, so every server is
//! forked by one spawner thread that lives as long as the process. A
//! server owned by a value (a per-test server, a stopped ensemble member)
//! is also killed when that value is dropped, panics included.
//!
//! Scratch directories live under `$TMPDIR/tenure-test-servers/<pid>-…`;
//! those left by processes that are gone are deleted the next time a
//! directory is made.
//!
//! | module | what it holds |
//! |---|---|
//! | `ports` | loopback ports no other server of this run uses |
//! | `scratch` | scratch directories, swept when their process is gone |
//! | `process` | server processes that die with the test binary, restartable ones, signals |

mod ports;
mod process;
mod scratch;

pub use ports::free_port;
pub use process::{RestartableProcess, ServerProcess, send_signal, spawn_dying_with_binary};
pub use scratch::scratch_dir;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The command that installs every server binary the tests use.
pub const INSTALL_HINT: &str = "apt-get install -y --no-install-recommends zookeeper etcd-server etcd-client protobuf-compiler libprotobuf-dev";

/// Panics, naming the install command, unless `path` exists.
pub fn require_file(path: &str, what: &str) {
    if !Path::new(path).exists() {
        panic!("{what} not found at {path}: install it with `{INSTALL_HINT}`");
    }
}

/// The full path of `program` on `PATH`; panics naming the install command
/// when it is missing.
pub fn require_program(program: &str, what: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{what} (`{program}`) not found on PATH: install it with `{INSTALL_HINT}`")
    })
}

/// Polls `check` every 20 ms until it holds, for at most `limit`; returns
/// how long it took, or `None` if it never held.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if check() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `request` to `addr`, then reads until the server closes the
/// connection; everything bounded by `timeout` per step. For ZooKeeper's
/// four-letter words and other one-shot text protocols.
///
/// # Errors
/// Connection, write or read failures and time-outs.
pub fn tcp_request(addr: SocketAddr, request: &[u8], timeout: Duration) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
