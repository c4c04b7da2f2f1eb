//! Scratch directories for test servers, and the sweep of those whose
//! process is gone.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A fresh scratch directory for one server, deleted when the returned
/// value is dropped (a server held in a `static` leaves it behind; it is
/// swept once its process is gone).
///
/// In memory (`/dev/shm`) where the machine has it: etcd 3.4 cannot turn
/// its fsyncs off, and on a busy disk one of them stalled every answer of
/// a test server for over a second, long enough to put a 2 s session at
/// risk. Tests measure tenure, not the disk.
pub fn scratch_dir(prefix: &str) -> tempfile::TempDir {
    let root = scratch_root();
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("creating {}: {e}", root.display()));
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| sweep_stale(&root));
    tempfile::Builder::new()
        .prefix(&format!("{}-{prefix}-", std::process::id()))
        .tempdir_in(&root)
        .unwrap_or_else(|e| panic!("creating a scratch dir in {}: {e}", root.display()))
}

/// Where servers keep their data: `/dev/shm` if it is a writable
/// directory, the system's temporary directory otherwise.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let in_memory =
        shm.is_dir() && std::fs::metadata(shm).is_ok_and(|m| !m.permissions().readonly());
    let base = if in_memory {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join("tenure-test-servers")
}

/// Deletes the scratch directories of processes that no longer run.
fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.split('-').next()) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
