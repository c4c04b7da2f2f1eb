//! Validated names (one path segment) and absolute paths: the types and
//! what reads them. Making one (the rules) is `validate.rs`'s.

use std::fmt;
use std::sync::Arc;

/// The longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The longest path accepted, in bytes.
pub const MAX_PATH_LEN: usize = 4096;

/// One segment of a [`Path`]: a task name, a worker name, a folder.
///
/// A name is 1 to [`MAX_NAME_LEN`] bytes of UTF-8, is not `.` or `..`, and
/// contains no `/`, no control character (U+0000–U+001F, U+007F–U+009F) and
/// none of the characters ZooKeeper refuses (U+E000–U+F8FF, U+FFF0–U+FFFF),
/// so that a name valid for one backend is valid for all.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(pub(super) Box<str>);

impl Name {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// An absolute path in the store: `/` or `/` followed by [`Name`]s joined by
/// `/`, at most [`MAX_PATH_LEN`] bytes, with no trailing `/`.
///
/// A `Path` is validated once, when it is made, and is cheap to clone (the
/// text is shared, not copied), so errors and events carry it as it is.
/// It displays as its text and compares equal to that text:
///
/// ```
/// use tenure_core::store::Path;
///
/// let tasks = Path::new("/tenure/ecas/tasks")?;
/// let task = tasks.child("TASK_1")?;
/// assert_eq!(task.to_string(), "/tenure/ecas/tasks/TASK_1");
/// assert_eq!(task, "/tenure/ecas/tasks/TASK_1");
/// assert_eq!(task.parent(), Some(tasks));
/// assert!(Path::new("tenure/no-leading-slash").is_err());
/// # Ok::<(), tenure_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(pub(super) Arc<str>);

impl Path {
    /// The root path `/`.
    pub fn root() -> Self {
        Path("/".into())
    }

    /// Whether this is the root `/`.
    pub fn is_root(&self) -> bool {
        &*self.0 == "/"
    }

    /// The parent path, or `None` for the root.
    pub fn parent(&self) -> Option<Path> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        Some(if cut == 0 {
            Self::root()
        } else {
            Path(self.0[..cut].into())
        })
    }

    /// The last segment, or `None` for the root.
    pub fn name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// The segments from the root down.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &Path) -> bool {
        other.is_root()
            || *self == *other
            || (self.0.starts_with(&*other.0)
                && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Path {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Path {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}
