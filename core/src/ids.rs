//! Names of tasks and workers: validated, cheap to clone, ordered.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Name;

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(Name);

        impl $ty {
            /// Validates `name` with the rules of a path segment (see [`Name`]).
            ///
            /// # Errors
            /// [`Error::InvalidName`] naming the rule that was broken.
            pub fn new(name: impl AsRef<str>) -> Result<Self> {
                Name::new(name.as_ref()).map($ty).map_err(|e| match e {
                    Error::InvalidName { name, reason } => Error::InvalidName {
                        name,
                        reason: format!("{} name: {reason}", $what),
                    },
                    other => other,
                })
            }

            /// The name as a string.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// The name as a path segment.
            pub fn as_name(&self) -> &Name {
                &self.0
            }
        }

        impl From<Name> for $ty {
            fn from(name: Name) -> Self {
                $ty(name)
            }
        }

        impl FromStr for $ty {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                Self::new(s)
            }
        }

        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.as_str().to_owned()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
    };
}

name_type!(
    /// The name of a task, unique in its cluster (for example `TASK_1`).
    TaskId,
    "task"
);
name_type!(
    /// The name of a worker, unique among the live workers of its cluster
    /// (for example `ECAS_1`).
    WorkerId,
    "worker"
);
