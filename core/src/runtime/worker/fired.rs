//! An optional watch as something to wait on.

use std::pin::Pin;

use crate::store::{Watch, WatchEvent};

/// Resolves when the watch fires, or never if there is none.
pub(super) async fn fired(w: &mut Option<Watch>) -> WatchEvent {
    match w {
        Some(w) => Pin::new(w).await,
        None => std::future::pending().await,
    }
}
