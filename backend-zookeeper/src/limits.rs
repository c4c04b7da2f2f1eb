//! What ZooKeeper accepts in one request, checked before sending.
//!
//! The server refuses any request packet longer than `jute.maxbuffer`
//! (default `0xfffff` = 1,048,575 bytes) by closing the connection, which
//! costs every request in flight. Measured against ZooKeeper 3.8 with the
//! default: a create of `/p/x` with an open ACL is accepted with 1,048,524
//! bytes of data (a 1,048,575-byte packet) and refused with 1,048,525. The
//! store therefore refuses payloads over [`MAX_PAYLOAD`] = 1 MiB − 16 KiB,
//! which leaves room for the longest path (4,096 bytes) under the longest
//! chroot (4,096 bytes), the ACL and the headers; a multi must keep the sum
//! of its payloads within the same limit and its whole packet within
//! `jute.maxbuffer`.

use tenure_core::{Error, Op, Result};

/// ZooKeeper's default `jute.maxbuffer`: the longest request packet.
pub const JUTE_MAX_BUFFER: usize = 0xfffff;

/// The largest node payload the store sends: 1 MiB − 16 KiB.
pub const MAX_PAYLOAD: usize = 1024 * 1024 - 16 * 1024;

/// Bytes of an ACL vector on the wire, at most (one entry: `auth:` or
/// `world:anyone`).
const ACL_BYTES: usize = 32;

/// Refuses a payload over [`MAX_PAYLOAD`].
pub(crate) fn check_payload(data: &[u8]) -> Result<()> {
    if data.len() > MAX_PAYLOAD {
        return Err(Error::PayloadTooLarge {
            size: data.len(),
            limit: MAX_PAYLOAD,
        });
    }
    Ok(())
}

/// Refuses a multi whose payloads (each, or together) exceed
/// [`MAX_PAYLOAD`], or whose packet would exceed [`JUTE_MAX_BUFFER`] with
/// paths under a chroot of `chroot_len` bytes.
pub(crate) fn check_multi(ops: &[Op], chroot_len: usize) -> Result<()> {
    let mut payloads = 0usize;
    for op in ops {
        if let Op::Create { data, .. } | Op::Set { data, .. } = op {
            check_payload(data)?;
            payloads += data.len();
        }
    }
    if payloads > MAX_PAYLOAD {
        return Err(Error::PayloadTooLarge {
            size: payloads,
            limit: MAX_PAYLOAD,
        });
    }
    let packet = multi_packet_len(ops, chroot_len);
    if packet > JUTE_MAX_BUFFER {
        return Err(Error::InvalidInput(format!(
            "a multi of {} operations encodes to {packet} bytes, over ZooKeeper's request limit \
             (jute.maxbuffer) of {JUTE_MAX_BUFFER} bytes; split it",
            ops.len()
        )));
    }
    Ok(())
}

/// The length of a multi request packet (without its length prefix).
pub(crate) fn multi_packet_len(ops: &[Op], chroot_len: usize) -> usize {
    const REQUEST_HEADER: usize = 8;
    const MULTI_HEADER: usize = 9;
    let string = |len: usize| 4 + len;
    let body: usize = ops
        .iter()
        .map(|op| {
            let path = string(chroot_len + op.path().as_str().len());
            MULTI_HEADER
                + match op {
                    Op::Check { .. } | Op::Delete { .. } => path + 4,
                    Op::Set { data, .. } => path + string(data.len()) + 4,
                    Op::Create { data, .. } => path + string(data.len()) + ACL_BYTES + 4,
                }
        })
        .sum();
    REQUEST_HEADER + body + MULTI_HEADER
}

#[cfg(test)]
mod tests {
    use tenure_core::store::MAX_PATH_LEN;
    use tenure_core::{CreateMode, Path};

    use super::*;

    #[test]
    fn the_longest_single_create_fits_in_one_packet() {
        // Create: header, path, data, ACL, flags.
        let worst = 8 + (4 + 2 * MAX_PATH_LEN) + (4 + MAX_PAYLOAD) + ACL_BYTES + 4;
        assert!(worst <= JUTE_MAX_BUFFER, "{worst}");
    }

    #[test]
    fn payloads_over_the_limit_are_refused_alone_or_together() {
        assert!(check_payload(&vec![0; MAX_PAYLOAD]).is_ok());
        let e = check_payload(&vec![0; MAX_PAYLOAD + 1]).unwrap_err();
        assert!(
            matches!(e, Error::PayloadTooLarge { size, limit } if size == MAX_PAYLOAD + 1 && limit == MAX_PAYLOAD)
        );
        let half = |name: &str| Op::Set {
            path: Path::new(name).unwrap(),
            data: vec![0; MAX_PAYLOAD / 2 + 1],
            version: None,
        };
        let e = check_multi(&[half("/a"), half("/b")], 0).unwrap_err();
        assert!(matches!(e, Error::PayloadTooLarge { .. }), "{e:?}");
    }

    #[test]
    fn many_long_paths_exceed_the_packet_limit() {
        let long = Path::new(&format!("/{}", "p".repeat(250))).unwrap();
        let ops: Vec<Op> = (0..5000)
            .map(|_| Op::Create {
                path: long.clone(),
                data: Vec::new(),
                mode: CreateMode::Persistent,
            })
            .collect();
        assert!(matches!(check_multi(&ops, 0), Err(Error::InvalidInput(_))));
        assert!(check_multi(&ops[..100], 0).is_ok());
    }
}
