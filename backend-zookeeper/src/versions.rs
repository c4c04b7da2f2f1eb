//! ZooKeeper's stats in tenure's terms: versions, incarnations and
//! ephemeral owners.

use tenure_core::{Error, Incarnation, Path, Result, SessionId, Version};
use zookeeper_client as zk;

/// ZooKeeper's data version as a tenure [`Version`].
pub(crate) fn version(stat: &zk::Stat) -> Version {
    Version(u64::from(stat.version as u32))
}

/// The zxid of the transaction that created the node: ZooKeeper restarts
/// the data version of a re-created node at 0, its `czxid` never repeats.
pub(crate) fn incarnation(stat: &zk::Stat) -> Incarnation {
    Incarnation(stat.czxid as u64)
}

/// The ZooKeeper version to expect for `expected`; a version ZooKeeper
/// could never report (or one that would read as "any") cannot match.
pub(crate) fn expected(path: &Path, expected: Option<Version>) -> Result<Option<i32>> {
    match expected {
        None => Ok(None),
        Some(Version(v)) => match u32::try_from(v) {
            Ok(v) if v as i32 != -1 => Ok(Some(v as i32)),
            _ => Err(Error::VersionConflict { path: path.clone() }),
        },
    }
}

/// The owning session of a node, from its stat.
pub(crate) fn owner(stat: &zk::Stat) -> Option<SessionId> {
    (stat.ephemeral_owner != 0).then_some(SessionId(stat.ephemeral_owner as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_impossible_ones_never_match() {
        let p = Path::new("/n").unwrap();
        assert_eq!(expected(&p, None).unwrap(), None);
        assert_eq!(expected(&p, Some(Version(0))).unwrap(), Some(0));
        assert_eq!(expected(&p, Some(Version(7))).unwrap(), Some(7));
        for impossible in [u64::from(u32::MAX), u64::from(u32::MAX) + 1, u64::MAX] {
            assert!(matches!(
                expected(&p, Some(Version(impossible))),
                Err(Error::VersionConflict { .. })
            ));
        }
        let stat = zk::Stat {
            czxid: 1,
            mzxid: 1,
            pzxid: 1,
            ctime: 0,
            mtime: 0,
            version: i32::MAX,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            data_length: 0,
            num_children: 0,
        };
        let v = version(&stat);
        assert_eq!(expected(&p, Some(v)).unwrap(), Some(i32::MAX));
    }
}
