//! Reads of several nodes as one ZooKeeper `multiRead` request (ZooKeeper
//! 3.6 and later): the server reads them all at one instant.

use tenure_core::{Error, Node, Path, Result};
use zookeeper_client as zk;

use crate::errors::Kind;
use crate::ops::node;
use crate::proof::Reach;
use crate::shared::Live;
use crate::store::ZkStore;

/// Reads `paths` (non-empty) in one `multiRead` on `live`: one answer per
/// path, in order, `None` for a missing node.
///
/// # Errors
/// The first error of a read that failed for another reason than a missing
/// node, naming its path; request failures.
pub(crate) async fn run(store: &ZkStore, live: &Live, paths: &[Path]) -> Result<Vec<Option<Node>>> {
    let mut reader = live.client.new_multi_reader();
    for path in paths {
        reader
            .add_get_data(path.as_str())
            .map_err(|e| store.fail(e, Kind::Node, path, live))?;
    }
    let first = &paths[0];
    let results = match store
        .request(live, "read", first, Reach::Server, reader.commit())
        .await?
    {
        Ok(results) => results,
        Err(e) => return Err(store.fail(e, Kind::Node, first, live)),
    };
    if results.len() != paths.len() {
        return Err(Error::Backend {
            backend: crate::errors::BACKEND,
            message: format!(
                "a read of {} nodes answered with {} results",
                paths.len(),
                results.len()
            ),
            source: None,
        });
    }
    paths
        .iter()
        .zip(results)
        .map(|(path, result)| match result {
            zk::MultiReadResult::Data { data, stat } => Ok(Some(node(data, &stat))),
            zk::MultiReadResult::Error {
                err: zk::Error::NoNode,
            } => Ok(None),
            zk::MultiReadResult::Error { err } => Err(store.fail(err, Kind::Node, path, live)),
            other => Err(Error::Backend {
                backend: crate::errors::BACKEND,
                message: format!("a read of {path} answered with {other:?}"),
                source: None,
            }),
        })
        .collect()
}
