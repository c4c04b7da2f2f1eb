//! Load strategies for tenure: pure functions from workers, tasks and current owners to a target assignment.

#![deny(missing_docs)]
