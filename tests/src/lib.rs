//! Shared test support for tenure: the backend conformance suite and server harnesses.

#![deny(missing_docs)]
