//! What a task is, as the admin API takes it.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use crate::error::{Error, Result};
use crate::ids::{TaskId, WorkerId};
use crate::runtime::records::TaskRecord;

/// A task to add or update.
///
/// ```
/// use tenure_core::TaskSpec;
///
/// let spec = TaskSpec::new("billing-eu")?
///     .payload(r#"{"region":"eu"}"#)
///     .weight(3)? // counts three times in a worker's load
///     .tag("eu")? // runs only on workers tagged `eu`
///     .pinned("host-a")?; // and only on the worker `host-a`
/// assert_eq!(spec.weight.get(), 3);
/// assert!(TaskSpec::new("").is_err(), "names are checked at the edge");
/// # Ok::<(), tenure_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskSpec {
    /// The task's name.
    pub id: TaskId,
    /// The payload handed to the handler.
    pub payload: Vec<u8>,
    /// The weight.
    pub weight: NonZeroU32,
    /// Tags a worker must all have to run it.
    pub tags: BTreeSet<String>,
    /// The only worker allowed to run it.
    pub pinned: Option<WorkerId>,
}

impl TaskSpec {
    /// A task with an empty payload and weight 1.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad name.
    pub fn new(id: impl AsRef<str>) -> Result<Self> {
        Ok(TaskSpec {
            id: TaskId::new(id)?,
            payload: Vec::new(),
            weight: NonZeroU32::MIN,
            tags: BTreeSet::new(),
            pinned: None,
        })
    }

    /// Sets the payload.
    pub fn payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Sets the weight.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a zero weight.
    pub fn weight(mut self, weight: u32) -> Result<Self> {
        self.weight = NonZeroU32::new(weight)
            .ok_or_else(|| Error::InvalidInput("task weight must be at least 1".into()))?;
        Ok(self)
    }

    /// Adds a required tag.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an empty tag or one with control
    /// characters.
    pub fn tag(mut self, tag: impl Into<String>) -> Result<Self> {
        let tag = tag.into();
        if tag.is_empty() || tag.chars().any(char::is_control) {
            return Err(Error::InvalidInput(format!(
                "tag {tag:?} must be non-empty text without control characters"
            )));
        }
        self.tags.insert(tag);
        Ok(self)
    }

    /// Pins the task to one worker.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad worker name.
    pub fn pinned(mut self, worker: impl AsRef<str>) -> Result<Self> {
        self.pinned = Some(WorkerId::new(worker)?);
        Ok(self)
    }

    /// The task a stored record describes.
    pub(crate) fn from_record(id: TaskId, record: &TaskRecord) -> Result<Self> {
        Ok(TaskSpec {
            id,
            payload: record.payload_bytes()?,
            weight: record.weight,
            tags: record.tags.clone(),
            pinned: record.pinned.clone(),
        })
    }

    pub(crate) fn to_record(&self, paused: bool) -> TaskRecord {
        let mut record = TaskRecord {
            payload: None,
            payload_base64: None,
            paused,
            done: false,
            weight: self.weight,
            tags: self.tags.clone(),
            pinned: self.pinned.clone(),
        };
        record.set_payload(&self.payload);
        record
    }
}
