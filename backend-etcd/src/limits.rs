//! What fits in one etcd request.
//!
//! etcd refuses a request whose encoded form exceeds its
//! `--max-request-bytes` (1.5 MiB = 1,572,864 bytes by default) with
//! `etcdserver: request is too large`. A node's payload travels in a
//! transaction together with its key (up to 4 KiB of path), the keys of the
//! comparisons that guard it (the node, its parent) and the reads of the
//! failure branch; [`PAYLOAD_MARGIN`] (64 KiB) reserves room for all of that
//! with the server's own envelope, so a payload of [`max_payload`] bytes is
//! accepted whatever its path. With the defaults the limit is
//! [`MAX_PAYLOAD`] = 1,507,328 bytes.
//!
//! A multi carries several payloads in one transaction: besides each
//! payload being at most the limit, their sum must be too
//! ([`Error::PayloadTooLarge`] names
//! the sum and the limit).
//!
//! Measured against etcd 3.4 (test `etcd_store::payload_limit_*`): a put
//! of a value of 1,572,864 − 42 bytes under a short key is refused at the
//! server while one with about 1,572,800 bytes passes, so the margin leaves
//! more than 60 KiB to spare.

use tenure_core::{Error, Result};

/// etcd's default `--max-request-bytes`.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024 * 3 / 2;

/// etcd's default `--max-txn-ops`: the most comparisons, and the most
/// operations per branch, one transaction may hold.
pub const DEFAULT_MAX_TXN_OPS: usize = 128;

/// The bytes of a request reserved for keys, comparisons and framing.
pub const PAYLOAD_MARGIN: usize = 64 * 1024;

/// The largest payload with the server's default request limit.
pub const MAX_PAYLOAD: usize = DEFAULT_MAX_REQUEST_BYTES - PAYLOAD_MARGIN;

/// The largest payload for a server whose `--max-request-bytes` is
/// `max_request_bytes`.
pub const fn max_payload(max_request_bytes: usize) -> usize {
    max_request_bytes.saturating_sub(PAYLOAD_MARGIN)
}

/// Refuses a payload over `limit`.
///
/// # Errors
/// [`Error::PayloadTooLarge`] naming the size and the limit.
pub(crate) fn check_payload(size: usize, limit: usize) -> Result<()> {
    if size > limit {
        return Err(Error::PayloadTooLarge { size, limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limit_leaves_the_margin() {
        assert_eq!(DEFAULT_MAX_REQUEST_BYTES, 1_572_864);
        assert_eq!(MAX_PAYLOAD, 1_507_328);
        assert!(check_payload(MAX_PAYLOAD, MAX_PAYLOAD).is_ok());
        let err = check_payload(MAX_PAYLOAD + 1, MAX_PAYLOAD).unwrap_err();
        assert!(err.to_string().contains("1507328"), "{err}");
    }
}
