//! A loopback TCP proxy that can black-hole one client's connection, to
//! simulate a network partition between that client and its server.
//!
//! ```ignore
//! let proxy = Proxy::start(server_addr).await?;
//! // connect the client to proxy.addr() instead of the server
//! proxy.suspend(); // nothing passes either way; new connections are dropped
//! proxy.resume();  // bytes held during the suspension flow on
//! ```
//!
//! While suspended the proxy reads nothing from either side, so bytes
//! already sent stay in the kernel's buffers and are delivered on resume,
//! as TCP would after a partition heals; connections that either side
//! closed meanwhile are closed on resume. [`Proxy::cut`] instead resets
//! every live connection at once (a crashed middlebox). The proxy listens
//! on 127.0.0.1 only and stops when dropped.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct State {
    suspended: bool,
    /// Bumped by [`Proxy::cut`]: connections of an older generation end.
    generation: u64,
}

/// A TCP proxy from a loopback port to one upstream address.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    state: watch::Sender<State>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free 127.0.0.1 port and forwards every accepted
    /// connection to `upstream`, on the current tokio runtime.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(upstream: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (state, _) = watch::channel(State::default());
        let acceptor = tokio::spawn(accept_loop(listener, upstream, state.clone()));
        Ok(Proxy {
            addr,
            upstream,
            state,
            acceptor,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address connections are forwarded to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Stops forwarding in both directions and drops new connections.
    pub fn suspend(&self) {
        self.state.send_modify(|s| s.suspended = true);
    }

    /// Forwards again, starting with whatever was held.
    pub fn resume(&self) {
        self.state.send_modify(|s| s.suspended = false);
    }

    /// Whether the proxy is suspended.
    pub fn is_suspended(&self) -> bool {
        self.state.borrow().suspended
    }

    /// Closes every live connection now; new connections are forwarded
    /// (unless suspended).
    pub fn cut(&self) {
        self.state.send_modify(|s| s.generation += 1);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        // Ends every pump: they all watch this state.
        self.state.send_modify(|s| s.generation = u64::MAX);
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, state: watch::Sender<State>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let now = *state.borrow();
        if now.suspended {
            drop(client);
            continue;
        }
        let rx = state.subscribe();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let up = pump(client_read, server_write, rx.clone(), now.generation);
            let down = pump(server_read, client_write, rx, now.generation);
            // When either direction ends, drop both: the connection closes.
            tokio::select! {
                _ = up => {}
                _ = down => {}
            }
        });
    }
}

/// Waits until forwarding is allowed; `false` when the connection must end.
async fn wait_open(state: &mut watch::Receiver<State>, generation: u64) -> bool {
    loop {
        let now = *state.borrow_and_update();
        if now.generation != generation {
            return false;
        }
        if !now.suspended {
            return true;
        }
        if state.changed().await.is_err() {
            return false;
        }
    }
}

/// Whether the state now forbids forwarding (suspended or cut).
async fn closed_or_suspended(state: &mut watch::Receiver<State>, generation: u64) {
    loop {
        let now = *state.borrow_and_update();
        if now.suspended || now.generation != generation {
            return;
        }
        if state.changed().await.is_err() {
            return;
        }
    }
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut state: watch::Receiver<State>,
    generation: u64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !wait_open(&mut state, generation).await {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buf) => Some(read),
            _ = closed_or_suspended(&mut state, generation) => None,
        };
        let n = match read {
            None => continue,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                // End of stream or error: pass the close on, held back like
                // data while suspended.
                if wait_open(&mut state, generation).await {
                    let _ = to.shutdown().await;
                }
                return;
            }
        };
        if !wait_open(&mut state, generation).await {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
