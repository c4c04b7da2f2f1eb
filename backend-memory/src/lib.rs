//! The in-process coordination store of tenure: deterministic, with fault hooks.

#![deny(missing_docs)]
