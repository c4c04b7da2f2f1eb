//! How long to wait before trying again.

use std::time::Duration;

/// The pause after `failures` failed attempts in a row: 40 ms doubling, at
/// most `cap`.
pub(crate) fn retry_pause(failures: u32, cap: Duration) -> Duration {
    Duration::from_millis(20u64 << failures.min(5)).min(cap)
}
