//! The ZooKeeper coordination store of tenure.

#![deny(missing_docs)]
