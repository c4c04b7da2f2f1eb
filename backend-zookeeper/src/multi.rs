//! Atomic multi-operations as ZooKeeper `multi` requests.

use tenure_core::{Error, Op, OpResult, Result, Version};
use zookeeper_client as zk;

use crate::errors::Kind;
use crate::proof::Reach;
use crate::shared::Live;
use crate::store::ZkStore;
use crate::versions::{expected, version};

/// The kind of request an operation is, for error mapping.
fn kind(op: &Op) -> Kind {
    match op {
        Op::Create { .. } => Kind::Create,
        Op::Check { .. } | Op::Set { .. } | Op::Delete { .. } => Kind::Node,
    }
}

/// Sends `ops` (checked and non-empty) as one `multi` on `live`.
///
/// # Errors
/// The error of the first failing operation, naming its path.
pub(crate) async fn run(store: &ZkStore, live: &Live, ops: &[Op]) -> Result<Vec<OpResult>> {
    let acls = store.acls();
    let mut writer = live.client.new_multi_writer();
    for op in ops {
        let path = op.path();
        let added = match op {
            Op::Check { path, version } => {
                let want = expected(path, *version)?;
                writer.add_check_version(path.as_str(), want.unwrap_or(-1))
            }
            Op::Create { path, data, mode } => {
                let options = store.create_mode(*mode, live)?.with_acls(acls);
                writer.add_create(path.as_str(), data, &options)
            }
            Op::Set {
                path,
                data,
                version,
            } => writer.add_set_data(path.as_str(), data, expected(path, *version)?),
            Op::Delete { path, version } => {
                writer.add_delete(path.as_str(), expected(path, *version)?)
            }
        };
        added.map_err(|e| store.fail(e, kind(op), path, live))?;
    }
    let first = ops[0].path();
    let answer = store
        .request(live, "multi", first, Reach::Quorum, writer.commit())
        .await?;
    let results = match answer {
        Ok(results) => results,
        Err(zk::MultiWriteError::OperationFailed { index, source }) => {
            let failed = ops.get(index).unwrap_or(&ops[0]);
            return Err(store.fail(source, kind(failed), failed.path(), live));
        }
        Err(zk::MultiWriteError::RequestFailed { source }) => {
            return Err(store.fail(source, Kind::Node, first, live));
        }
    };
    if results.len() != ops.len() {
        return Err(Error::Backend {
            backend: crate::errors::BACKEND,
            message: format!(
                "multi of {} operations answered with {} results",
                ops.len(),
                results.len()
            ),
            source: None,
        });
    }
    results
        .into_iter()
        .map(|r| match r {
            zk::MultiWriteResult::Check => Ok(OpResult::Checked),
            // ZooKeeper 3.8 answers a create inside a multi without its
            // stat (the client reports it as invalid, version -1); a node
            // just created always has data version 0.
            zk::MultiWriteResult::Create { stat, .. } if stat.version < 0 => {
                Ok(OpResult::Created(Version(0)))
            }
            zk::MultiWriteResult::Create { stat, .. } => Ok(OpResult::Created(version(&stat))),
            zk::MultiWriteResult::SetData { stat } => Ok(OpResult::Set(version(&stat))),
            zk::MultiWriteResult::Delete => Ok(OpResult::Deleted),
            other => Err(Error::Backend {
                backend: crate::errors::BACKEND,
                message: format!("unexpected multi result {other:?}"),
                source: None,
            }),
        })
        .collect()
}
