//! Pending one-shot watches, by path, and which change fires which.
//!
//! As in ZooKeeper: a data watch (armed by `get_and_watch`, also on a
//! missing node) fires `Created`, `Changed` or `Deleted`; a children watch
//! (armed by `children_and_watch`) fires `ChildrenChanged` when a child is
//! created or deleted, and `Deleted` when the node itself is deleted. Each
//! watch fires once and is then forgotten.

use std::collections::BTreeMap;

use tenure_core::store::WatchSender;
use tenure_core::{Path, WatchEvent};

use crate::client::ClientId;
use crate::tree::Change;

/// A watch that fired: who armed it, and with what it fires.
#[derive(Debug)]
pub(crate) struct Fired {
    pub(crate) client: ClientId,
    pub(crate) sender: WatchSender,
    pub(crate) event: WatchEvent,
}

#[derive(Debug)]
struct Reg {
    client: ClientId,
    sender: WatchSender,
}

/// Every pending watch of the server.
#[derive(Debug, Default)]
pub(crate) struct WatchTable {
    data: BTreeMap<Path, Vec<Reg>>,
    children: BTreeMap<Path, Vec<Reg>>,
}

fn arm(table: &mut BTreeMap<Path, Vec<Reg>>, path: &Path, client: ClientId, sender: WatchSender) {
    let regs = table.entry(path.clone()).or_default();
    regs.retain(|r| !r.sender.is_abandoned());
    regs.push(Reg { client, sender });
}

/// Fires the children watches of `path`'s parent: a child was created or
/// deleted.
fn fire_parent(children: &mut BTreeMap<Path, Vec<Reg>>, path: &Path, out: &mut Vec<Fired>) {
    if let Some(parent) = path.parent() {
        fire(children, &parent, WatchEvent::ChildrenChanged, out);
    }
}

fn fire(
    table: &mut BTreeMap<Path, Vec<Reg>>,
    path: &Path,
    event: WatchEvent,
    out: &mut Vec<Fired>,
) {
    for reg in table.remove(path).unwrap_or_default() {
        out.push(Fired {
            client: reg.client,
            sender: reg.sender,
            event,
        });
    }
}

impl WatchTable {
    /// Arms a data watch on `path` for `client`.
    pub(crate) fn watch_data(&mut self, path: &Path, client: ClientId, sender: WatchSender) {
        arm(&mut self.data, path, client, sender);
    }

    /// Arms a children watch on `path` for `client`.
    pub(crate) fn watch_children(&mut self, path: &Path, client: ClientId, sender: WatchSender) {
        arm(&mut self.children, path, client, sender);
    }

    /// Takes every watch an applied change fires.
    pub(crate) fn trigger(&mut self, change: &Change, out: &mut Vec<Fired>) {
        match change {
            Change::Created { path } => {
                fire(&mut self.data, path, WatchEvent::Created, out);
                fire_parent(&mut self.children, path, out);
            }
            Change::Set { path, .. } => fire(&mut self.data, path, WatchEvent::Changed, out),
            Change::Deleted { path, .. } => {
                fire(&mut self.data, path, WatchEvent::Deleted, out);
                fire(&mut self.children, path, WatchEvent::Deleted, out);
                fire_parent(&mut self.children, path, out);
            }
        }
    }

    /// Removes every pending watch of `client`, to fire `Lost`.
    pub(crate) fn take_client(&mut self, client: ClientId) -> Vec<WatchSender> {
        let mut taken = Vec::new();
        for table in [&mut self.data, &mut self.children] {
            table.retain(|_, regs| {
                let (mine, others): (Vec<Reg>, Vec<Reg>) =
                    regs.drain(..).partition(|r| r.client == client);
                taken.extend(mine.into_iter().map(|r| r.sender));
                *regs = others;
                !regs.is_empty()
            });
        }
        taken
    }

    /// How many watches of `client` are pending and still held by it (a
    /// watch whose [`Watch`](tenure_core::Watch) was dropped does not
    /// count).
    pub(crate) fn held_by(&self, client: ClientId) -> usize {
        self.data
            .values()
            .chain(self.children.values())
            .flatten()
            .filter(|r| r.client == client && !r.sender.is_abandoned())
            .count()
    }

    /// How many watches are pending (abandoned ones included until pruned).
    pub(crate) fn len(&self) -> usize {
        self.data
            .values()
            .chain(self.children.values())
            .map(Vec::len)
            .sum()
    }
}
