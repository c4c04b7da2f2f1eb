//! The rules that make a [`Name`] and a [`Path`]: every constructor that
//! validates, and the errors naming the rule broken. The types themselves
//! (and what needs no validation) are `path.rs`'s; the split keeps the
//! error type, which carries a [`Path`], free of a file-level cycle with
//! the code that refuses one.

use super::path::{MAX_NAME_LEN, MAX_PATH_LEN, Name, Path};
use crate::error::{Error, Result};

impl Name {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`Error::InvalidName`] naming the rule that was broken.
    pub fn new(name: &str) -> Result<Self> {
        validate_name(name)?;
        Ok(Name(name.into()))
    }
}

fn invalid(name: &str, reason: impl Into<String>) -> Error {
    let shown: String = name.chars().take(64).collect();
    Error::InvalidName {
        name: shown,
        reason: reason.into(),
    }
}

fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(invalid(name, "must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(
            name,
            format!(
                "is {} bytes long, over the limit of {MAX_NAME_LEN} bytes",
                name.len()
            ),
        ));
    }
    if name == "." || name == ".." {
        return Err(invalid(name, "`.` and `..` are reserved"));
    }
    if name.contains('/') {
        return Err(invalid(name, "must not contain `/`"));
    }
    if let Some(c) = name.chars().find(|c| is_forbidden(*c)) {
        return Err(invalid(
            name,
            format!(
                "contains the forbidden character U+{:04X} (control or reserved)",
                c as u32
            ),
        ));
    }
    Ok(())
}

fn is_forbidden(c: char) -> bool {
    matches!(c as u32, 0x00..=0x1F | 0x7F..=0x9F | 0xE000..=0xF8FF | 0xFFF0..=0xFFFF)
}

impl std::str::FromStr for Name {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Name::new(s)
    }
}

impl Path {
    /// Parses and validates an absolute path such as `/tenure/ecas/tasks`.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] when it is not absolute, has an empty segment,
    /// a trailing `/` or is too long; [`Error::InvalidName`] when a segment
    /// is not a valid [`Name`].
    pub fn new(path: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidPath {
            path: path.chars().take(128).collect(),
            reason,
        };
        if path == "/" {
            return Ok(Self::root());
        }
        if !path.starts_with('/') {
            return Err(bad("must start with `/`".into()));
        }
        if path.len() > MAX_PATH_LEN {
            return Err(bad(format!(
                "is {} bytes long, over the limit of {MAX_PATH_LEN} bytes",
                path.len()
            )));
        }
        if path.ends_with('/') {
            return Err(bad("must not end with `/`".into()));
        }
        for segment in path[1..].split('/') {
            if segment.is_empty() {
                return Err(bad("must not contain an empty segment (`//`)".into()));
            }
            validate_name(segment)?;
        }
        Ok(Path(path.into()))
    }

    /// This path with `name` appended.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] when the result would exceed [`MAX_PATH_LEN`].
    pub fn join(&self, name: &Name) -> Result<Self> {
        let joined = if self.is_root() {
            format!("/{name}")
        } else {
            format!("{self}/{name}")
        };
        if joined.len() > MAX_PATH_LEN {
            return Err(Error::InvalidPath {
                path: joined.chars().take(128).collect(),
                reason: format!(
                    "is {} bytes long, over the limit of {MAX_PATH_LEN} bytes",
                    joined.len()
                ),
            });
        }
        Ok(Path(joined.into()))
    }

    /// This path with a segment given as a string appended, validating it.
    ///
    /// # Errors
    /// As [`Name::new`] and [`Path::join`].
    pub fn child(&self, name: &str) -> Result<Self> {
        self.join(&Name::new(name)?)
    }
}

impl std::str::FromStr for Path {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Path::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_each_illegal_form() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\u{0}b",
            "tab\there",
            "\u{7f}",
            "\u{e000}",
        ] {
            assert!(
                matches!(Name::new(bad), Err(Error::InvalidName { .. })),
                "{bad:?} accepted"
            );
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let err = Name::new(&long).unwrap_err().to_string();
        assert!(err.contains("255"), "{err}");
        assert!(Name::new(&"x".repeat(MAX_NAME_LEN)).is_ok());
        assert!(Name::new("TASK_1").is_ok());
        assert!(Name::new("über-task.v2").is_ok());
    }

    #[test]
    fn paths_parse_join_and_split() {
        let p = Path::new("/tenure/ecas").unwrap();
        assert_eq!(p.child("tasks").unwrap().as_str(), "/tenure/ecas/tasks");
        assert_eq!(p.parent().unwrap().as_str(), "/tenure");
        assert_eq!(p.parent().unwrap().parent().unwrap(), Path::root());
        assert_eq!(p.name(), Some("ecas"));
        assert!(Path::root().child("a").unwrap().as_str() == "/a");
        for bad in ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/../b"] {
            assert!(Path::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            Path::new("/a/bc")
                .unwrap()
                .starts_with(&Path::new("/a").unwrap())
        );
        assert!(
            !Path::new("/ab")
                .unwrap()
                .starts_with(&Path::new("/a").unwrap())
        );
    }
}
