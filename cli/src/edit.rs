//! `tenure tasks update` and `tenure tasks show`: one task at a time, and
//! the payload argument they and `tenure tasks add` read.

use std::collections::BTreeSet;
use std::io::Read;
use std::num::NonZeroU32;

use tenure_core::{Admin, Error, TaskId, TaskSpec, WorkerId};

use crate::args::{ShowArgs, UpdateArgs};
use crate::error::{CliError, CliResult};
use crate::output::schema::TasksDoc;
use crate::output::{emit, emit_json, table};

/// A checked `tenure tasks update`: what to change (`None`: keep).
#[derive(Debug)]
pub struct Update {
    /// The task.
    pub id: TaskId,
    payload: Option<Vec<u8>>,
    weight: Option<NonZeroU32>,
    tags: Option<BTreeSet<String>>,
    pin: Option<Option<WorkerId>>,
}

impl Update {
    /// Checks the command line before anything is read or written.
    ///
    /// # Errors
    /// [`CliError::Invalid`] naming the bad value, or when nothing is to
    /// change.
    pub fn check(args: &UpdateArgs) -> CliResult<Self> {
        // The spec's own checks, on a throwaway spec.
        let mut probe = TaskSpec::new(&args.name)?;
        if let Some(weight) = args.weight {
            probe = probe.weight(weight)?;
        }
        for tag in &args.tags {
            probe = probe.tag(tag.clone())?;
        }
        let tags = (args.no_tags || !args.tags.is_empty()).then_some(probe.tags);
        let pin = match (&args.pin, args.unpin) {
            (Some(worker), _) => Some(Some(WorkerId::new(worker)?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let payload = args.payload.as_deref().map(read_payload).transpose()?;
        if payload.is_none() && args.weight.is_none() && tags.is_none() && pin.is_none() {
            return Err(CliError::Invalid(
                "nothing to update: give --payload, --weight, --tag, --no-tags, --pin or --unpin"
                    .into(),
            ));
        }
        Ok(Update {
            id: probe.id,
            payload,
            weight: args.weight.map(|_| probe.weight),
            tags,
            pin,
        })
    }

    /// Makes the change (one compare-and-set; the pause state is kept, a
    /// done task is re-armed) and says what was done.
    ///
    /// # Errors
    /// An unknown task; a payload over the backend's limit; store errors.
    pub async fn apply(&self, admin: &Admin) -> CliResult<String> {
        admin
            .edit_task(&self.id, |mut spec| {
                if let Some(payload) = &self.payload {
                    spec.payload = payload.clone();
                }
                if let Some(weight) = self.weight {
                    spec.weight = weight;
                }
                if let Some(tags) = &self.tags {
                    spec.tags = tags.clone();
                }
                if let Some(pin) = &self.pin {
                    spec.pinned = pin.clone();
                }
                Ok(spec)
            })
            .await?;
        Ok(format!("updated task {}", self.id))
    }
}

/// Runs `tenure tasks show`.
///
/// # Errors
/// An unknown task ([`CliError::Conflict`], exit code 5); store errors.
pub async fn show(admin: &Admin, cluster: &str, args: &ShowArgs) -> CliResult {
    let id = TaskId::new(&args.name)?;
    let spec = admin.task(&id).await?;
    let Some(status) = admin.tasks().await?.into_iter().find(|t| t.task == id) else {
        return Err(Error::UnknownTask {
            task: id.to_string(),
        }
        .into());
    };
    if args.json {
        return emit_json(&TasksDoc::new(cluster, &[status]));
    }
    let payload = match std::str::from_utf8(&spec.payload) {
        Ok(text) => format!("payload: {text}\n"),
        Err(_) => format!("payload: {} bytes, not text\n", spec.payload.len()),
    };
    emit(&format!("{}{payload}", table::tasks(&[status])))
}

/// `TEXT`, `@FILE`, `@-` (standard input) or `@@TEXT` (the text `@TEXT`).
pub fn read_payload(arg: &str) -> CliResult<Vec<u8>> {
    match arg.strip_prefix('@') {
        None => Ok(arg.as_bytes().to_vec()),
        Some(rest) if rest.starts_with('@') => Ok(rest.as_bytes().to_vec()),
        Some("-") => {
            let mut data = Vec::new();
            std::io::stdin().read_to_end(&mut data).map_err(|e| {
                CliError::Invalid(format!("cannot read the payload from standard input: {e}"))
            })?;
            Ok(data)
        }
        Some(path) => std::fs::read(path)
            .map_err(|e| CliError::Invalid(format!("cannot read the payload file {path:?}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_forms() {
        assert_eq!(read_payload("plain").unwrap(), b"plain");
        assert_eq!(read_payload("@@at").unwrap(), b"@at");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"from file").unwrap();
        let arg = format!("@{}", file.path().display());
        assert_eq!(read_payload(&arg).unwrap(), b"from file");
        let err = read_payload("@/nonexistent/payload").unwrap_err();
        assert!(matches!(err, CliError::Invalid(m) if m.contains("/nonexistent/payload")));
    }
}
