//! `tenure console` processes for the console's tests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::http::{self, Response};
use super::{Cluster, Proc, expect_within};

/// A token the tests give the console (long enough to be accepted).
pub const TOKEN: &str = "test-operator-token-0123456789";

/// A running console.
pub struct Console {
    /// The process.
    pub proc: Proc,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Console {
    /// `GET path`.
    pub fn get(&self, path: &str) -> Response {
        http::get(self.addr, path)
    }

    /// `GET path`, which must answer 200 with JSON.
    pub fn json(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        r.json()
    }

    /// Sends a request.
    pub fn send(&self, request: http::Request<'_>) -> Response {
        http::send(self.addr, request)
    }

    /// Waits up to `limit` for `check` on `GET path`'s JSON.
    pub fn wait_json(
        &self,
        path: &str,
        limit: Duration,
        what: &str,
        mut check: impl FnMut(&Value) -> bool,
    ) {
        expect_within(limit, what, &[&self.proc], || {
            let r = self.get(path);
            r.status == 200 && check(&r.json())
        });
    }
}

impl Cluster {
    /// Starts `tenure console --listen 127.0.0.1:0 ARGS` with `env`, and
    /// waits until it says where it listens.
    pub fn console(&self, args: &[&str], env: &[(&str, &str)]) -> Console {
        let mut command = self.command();
        command
            .env_remove("TENURE_CONSOLE_TOKEN")
            .args(["console", "--listen", "127.0.0.1:0"])
            .args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let name = format!("console-{}", STARTED.fetch_add(1, Ordering::Relaxed));
        let proc = Proc::start(&name, command, &self.path(&format!("{name}.log")));
        let mut addr = None;
        expect_within(
            Duration::from_secs(30),
            "the console says where it listens",
            &[&proc],
            || {
                addr = proc
                    .output()
                    .split("http://")
                    .nth(1)
                    .and_then(|rest| rest.split('/').next())
                    .and_then(|a| a.parse::<SocketAddr>().ok());
                addr.is_some()
            },
        );
        Console {
            proc,
            addr: addr.unwrap(),
        }
    }

    /// A console with writes enabled and [`TOKEN`] in a token file, named
    /// `tester`.
    pub fn writable_console(&self) -> Console {
        let file = self.path("tokens");
        std::fs::write(&file, format!("# console tokens\ntester:{TOKEN}\n")).unwrap();
        self.console(
            &["--allow-writes", "--token-file", file.to_str().unwrap()],
            &[],
        )
    }
}
