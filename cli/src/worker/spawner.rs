//! Every command is forked by one thread that lasts as long as the
//! process.
//!
//! A parent-death signal (`PR_SET_PDEATHSIG`) fires when the *thread* that
//! forked the child ends, not the process. Tokio's worker and blocking
//! threads come and go, so a child forked from one of them could be killed
//! while `tenure worker` is alive and well, or, worse, a thread pool that
//! keeps its threads would make the signal useless. A dedicated thread that
//! never ends makes the signal mean what it should: the supervisor died.

use std::io;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::mpsc;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

type Reply = oneshot::Sender<io::Result<tokio::process::Child>>;
type Job = (Command, Handle, Reply);

fn spawner() -> io::Result<&'static mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("tenure-spawner".into())
                .spawn(move || {
                    for (command, runtime, reply) in rx {
                        // Tokio registers the child with this runtime's
                        // process driver, which reaps it.
                        let _entered = runtime.enter();
                        let child = tokio::process::Command::from(command).spawn();
                        let _ = reply.send(child);
                    }
                })
                .ok()
                .map(|_| tx)
        })
        .as_ref()
        .ok_or_else(|| io::Error::other("cannot start the process-spawning thread"))
}

/// Spawns `command` from the lasting spawner thread, on the current tokio
/// runtime.
///
/// # Errors
/// The spawn's error; an error if the spawner thread could not start.
///
/// # Panics
/// Outside a tokio runtime.
pub async fn spawn(command: Command) -> io::Result<tokio::process::Child> {
    let (reply, answer) = oneshot::channel();
    spawner()?
        .send((command, Handle::current(), reply))
        .map_err(|_| io::Error::other("the process-spawning thread has stopped"))?;
    answer
        .await
        .map_err(|_| io::Error::other("the process-spawning thread has stopped"))?
}
