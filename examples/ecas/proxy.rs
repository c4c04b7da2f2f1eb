//! A loopback TCP forwarder between one demo client and its server, so
//! the demo can make a host "die" for real: [`Link::cut`] closes every
//! connection and stops listening, the client can no longer reach the
//! server, and the server ends the client's session when its timeout runs
//! out — as it would for a crashed or unplugged machine.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Forwards connections from a free 127.0.0.1 port to one server.
pub struct Link {
    addr: String,
    tasks: Arc<Mutex<Tasks>>,
}

/// The acceptor and the connections, and whether the link was cut.
#[derive(Default)]
struct Tasks {
    cut: bool,
    running: Vec<AbortHandle>,
}

impl Tasks {
    /// Keeps `task` to abort on a cut, or aborts it now if the cut came
    /// first.
    fn add(&mut self, task: AbortHandle) {
        if self.cut {
            task.abort();
        } else {
            self.running.push(task);
        }
    }
}

impl Link {
    /// Listens on a free loopback port and forwards every connection to
    /// `upstream` (`host:port`).
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(upstream: &str) -> io::Result<Link> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?.to_string();
        let tasks: Arc<Mutex<Tasks>> = Arc::default();
        let upstream = upstream.to_owned();
        let registry = tasks.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let mut client = client;
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                lock(&registry).add(pipe.abort_handle());
            }
        });
        lock(&tasks).add(acceptor.abort_handle());
        Ok(Link { addr, tasks })
    }

    /// The address the client connects to instead of the server.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The host dies: every connection is closed and new ones are refused.
    pub fn cut(&self) {
        let mut tasks = lock(&self.tasks);
        tasks.cut = true;
        for task in tasks.running.drain(..) {
            task.abort();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.cut();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
