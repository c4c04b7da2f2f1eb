//! The real-server harness itself: the proxy, processes that never outlive
//! the test binary, a ZooKeeper restart on the same data, and a 3-node
//! ensemble losing its leader.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use tenure_core::{CoordinationStore, CreateMode, SessionState, StoreExt};
use tenure_tests::backend::{Backend, unique_root};
use tenure_tests::proxy::Proxy;
use tenure_tests::server_util::{ServerProcess, scratch_dir};
use tenure_tests::zookeeper::{ZkBackend, ZkEnsemble, ZkServer, wait_for_state};
use tenure_zookeeper::ZkConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PATIENCE: Duration = Duration::from_secs(10);

async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                loop {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if socket.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

async fn read_some(socket: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut buf = [0u8; 64];
    match tokio::time::timeout(within, socket.read(&mut buf)).await {
        Ok(Ok(n)) => Some(buf[..n].to_vec()),
        Ok(Err(_)) => Some(Vec::new()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_black_holes_while_suspended_and_delivers_held_bytes_on_resume() {
    let proxy = Proxy::start(echo_server().await).await.unwrap();
    assert!(proxy.addr().ip().is_loopback());
    let mut client = TcpStream::connect(proxy.addr()).await.unwrap();
    client.write_all(b"a").await.unwrap();
    assert_eq!(read_some(&mut client, PATIENCE).await.unwrap(), b"a");

    proxy.suspend();
    assert!(proxy.is_suspended());
    client.write_all(b"b").await.unwrap();
    assert_eq!(
        read_some(&mut client, Duration::from_millis(300)).await,
        None
    );
    // New connections are dropped at once (end of stream or reset).
    let mut late = TcpStream::connect(proxy.addr()).await.unwrap();
    let _ = late.write_all(b"x").await;
    assert_eq!(read_some(&mut late, PATIENCE).await.unwrap(), b"");

    proxy.resume();
    assert_eq!(read_some(&mut client, PATIENCE).await.unwrap(), b"b");

    proxy.cut();
    assert_eq!(read_some(&mut client, PATIENCE).await.unwrap(), b"");
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    fresh.write_all(b"c").await.unwrap();
    assert_eq!(read_some(&mut fresh, PATIENCE).await.unwrap(), b"c");
}

fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie waiting for its new parent to reap it is dead too.
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_gone(pid: u32, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if is_gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn server_process_is_killed_when_dropped() {
    let dir = scratch_dir("sleep");
    let mut sleeper = Command::new("sleep");
    sleeper.arg("60");
    let mut process = ServerProcess::spawn("sleep", &sleeper, &dir.path().join("log")).unwrap();
    let pid = process.pid();
    assert!(process.is_running());
    drop(process);
    assert!(wait_gone(pid, Duration::from_secs(2)), "pid {pid} survived");
}

/// Run only by `servers_die_with_the_test_binary`, in a child process: starts
/// a ZooKeeper server, leaks it (as a `static` would), prints its pid and
/// returns, so the child process exits without dropping it.
#[test]
#[ignore = "helper: run by servers_die_with_the_test_binary in a child process"]
fn helper_start_a_server_and_exit() {
    let server = ZkServer::start();
    println!("SERVER_PID={}", server.pid().unwrap());
    std::mem::forget(server);
}

#[test]
fn servers_die_with_the_test_binary() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "helper_start_a_server_and_exit",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "helper failed: {stdout}");
    let pid: u32 = stdout
        .lines()
        .find_map(|l| l.split("SERVER_PID=").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no pid in {stdout}"))
        .parse()
        .unwrap();
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "ZooKeeper (pid {pid}) outlived its test binary"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_keeps_the_data_and_the_session() {
    let server = tokio::task::spawn_blocking(ZkServer::start).await.unwrap();
    let zk = ZkBackend::on(server.addr());
    let c = zk.connect(Duration::from_secs(10)).await.unwrap();
    let s = c.store.live_session().unwrap();
    let root = unique_root("zkrestart");
    c.store.create_all(&root).await.unwrap();
    let (kept, e) = (root.child("kept").unwrap(), root.child("e").unwrap());
    c.store
        .create(&kept, b"data", CreateMode::Persistent)
        .await
        .unwrap();
    c.store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();

    let server = std::sync::Arc::new(server);
    let stopping = server.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap();
    let detected = wait_for_state(&c, PATIENCE, |st| st == SessionState::Suspended(s)).await;
    let starting = server.clone();
    let restart = tokio::task::spawn_blocking(move || starting.start_again())
        .await
        .unwrap();
    let back = wait_for_state(&c, PATIENCE, |st| st == SessionState::Connected(s)).await;
    eprintln!(
        "server killed: suspended after {detected:?}; restart took {restart:?}; session back after {back:?}"
    );
    assert_eq!(c.store.get(&kept).await.unwrap().unwrap().data, b"data");
    assert_eq!(
        c.store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(s)
    );
    let _ = c.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensemble_keeps_data_and_session_when_the_leader_dies() {
    let ensemble = std::sync::Arc::new(
        tokio::task::spawn_blocking(|| ZkEnsemble::start(3))
            .await
            .unwrap(),
    );
    let store = ZkConfig::new(ensemble.connect_string())
        .with_session_timeout(Duration::from_secs(6))
        .connect()
        .await
        .unwrap();
    let s = store.live_session().unwrap();
    let root = unique_root("zkensemble");
    store.create_all(&root).await.unwrap();
    let e = root.child("e").unwrap();
    store
        .create(&e, b"", CreateMode::Ephemeral(s))
        .await
        .unwrap();
    let leader = ensemble.leader().expect("a leader");

    let killed = Instant::now();
    let stopping = ensemble.clone();
    tokio::task::spawn_blocking(move || stopping.stop(leader))
        .await
        .unwrap();
    let mut written = None;
    while killed.elapsed() < PATIENCE {
        if store.set(&root, b"after", None).await.is_ok() {
            written = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let written = written.expect("no write succeeded after the leader died");
    let new_leader = ensemble.leader();
    eprintln!(
        "leader {leader} killed: writes succeed again after {written:?}; new leader {new_leader:?}"
    );
    assert!(new_leader.is_some_and(|l| l != leader));
    assert_eq!(store.session_state(), SessionState::Connected(s));
    assert_eq!(
        store.get(&e).await.unwrap().unwrap().ephemeral_owner,
        Some(s)
    );
    let restarting = ensemble.clone();
    let rejoin = tokio::task::spawn_blocking(move || restarting.start_again(leader))
        .await
        .unwrap();
    eprintln!("old leader rejoined after {rejoin:?}");
    let _ = store.close().await;
}
