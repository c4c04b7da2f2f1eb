//! The etcd coordination store of tenure.

#![deny(missing_docs)]
