//! The key layout: how tenure's hierarchy of paths maps onto etcd's flat,
//! byte-ordered keyspace.
//!
//! A node at path `p` of depth `d` (the number of its segments) is stored
//! under the key
//!
//! ```text
//! <namespace>/<d as 4 decimal digits><p>
//! ```
//!
//! so `/a/b` in namespace `/tenure` is `/tenure/0002/a/b`, and the root `/`
//! is `/tenure/0000/`. The children of a node `p` at depth `d` are exactly
//! the keys that start with `<namespace>/<d+1><p>/` (for the root:
//! `<namespace>/0001/`): one range read, in name order, that cannot pick up
//!
//! - a grandchild: its depth is `d+2`, so its key starts differently;
//! - a child of a sibling sharing a prefix (`/a/bc/x` when listing `/a/b`):
//!   the range ends with `/`, which no name contains.
//!
//! Four digits cover every depth: a path is at most 4096 bytes and every
//! segment takes at least two (`/x`), so depths stay below 2049. The keys
//! stay readable with `etcdctl`: `etcdctl get --prefix /tenure/0003/a/b/`
//! lists the children of `/a/b`.

use tenure_core::{Name, Path};

/// The keys of one namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Keys {
    /// The namespace without a trailing `/` (empty for the bare keyspace).
    namespace: String,
}

impl Keys {
    /// The layout under `namespace` (`/tenure`, `apps/tenure`, or empty); a
    /// trailing `/` is ignored.
    pub(crate) fn new(namespace: &str) -> Keys {
        Keys {
            namespace: namespace.trim_end_matches('/').to_string(),
        }
    }

    /// The key of the node at `path`.
    pub(crate) fn node(&self, path: &Path) -> Vec<u8> {
        if path.is_root() {
            return format!("{}/0000/", self.namespace).into_bytes();
        }
        format!("{}/{:04}{path}", self.namespace, depth(path)).into_bytes()
    }

    /// The common prefix of the keys of `path`'s children.
    pub(crate) fn children_prefix(&self, path: &Path) -> Vec<u8> {
        let below = if path.is_root() { "" } else { path.as_str() };
        format!("{}/{:04}{below}/", self.namespace, depth(path) + 1).into_bytes()
    }

    /// The key of the child `name` of the node whose children share
    /// `prefix` (from [`Keys::children_prefix`]).
    #[cfg(test)]
    pub(crate) fn child(prefix: &[u8], name: &str) -> Vec<u8> {
        let mut key = prefix.to_vec();
        key.extend_from_slice(name.as_bytes());
        key
    }

    /// The name of a child from its key, given the children's `prefix`;
    /// `None` for a key that is not a well-formed child key (written by
    /// something else than this layout).
    pub(crate) fn child_name(prefix: &[u8], key: &[u8]) -> Option<Name> {
        let rest = key.strip_prefix(prefix)?;
        Name::new(std::str::from_utf8(rest).ok()?).ok()
    }
}

/// The first key after every key that starts with `prefix`, for a range
/// `[prefix, range_end(prefix))`. Prefixes here end in `/`, so this is the
/// prefix with its last byte incremented.
pub(crate) fn range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Only for a prefix of 0xff bytes: the end of the keyspace.
    vec![0]
}

/// The smallest key after `key`: `key` followed by a zero byte.
pub(crate) fn key_after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

/// The number of segments of `path` (0 for the root).
fn depth(path: &Path) -> usize {
    path.segments().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        Path::new(s).unwrap()
    }

    fn in_range(prefix: &[u8], key: &[u8]) -> bool {
        key >= prefix && key < range_end(prefix).as_slice()
    }

    #[test]
    fn node_keys_carry_the_depth() {
        let k = Keys::new("/tenure/");
        assert_eq!(k.node(&Path::root()), b"/tenure/0000/");
        assert_eq!(k.node(&p("/a")), b"/tenure/0001/a");
        assert_eq!(k.node(&p("/a/b")), b"/tenure/0002/a/b");
        assert_eq!(k.children_prefix(&Path::root()), b"/tenure/0001/");
        assert_eq!(k.children_prefix(&p("/a/b")), b"/tenure/0003/a/b/");
        assert_eq!(Keys::new("").node(&p("/x")), b"/0001/x");
    }

    #[test]
    fn children_range_holds_children_only() {
        let k = Keys::new("/ns");
        let prefix = k.children_prefix(&p("/a/b"));
        for child in ["/a/b/c", "/a/b/c-1", "/a/b/\u{ff}"] {
            assert!(in_range(&prefix, &k.node(&p(child))), "{child} not listed");
        }
        for other in ["/a/b", "/a/bc", "/a/bc/x", "/a/b/c/d", "/a/b-/x", "/a/b0/x"] {
            assert!(!in_range(&prefix, &k.node(&p(other))), "{other} listed");
        }
        let root = k.children_prefix(&Path::root());
        assert!(in_range(&root, &k.node(&p("/a"))));
        assert!(!in_range(&root, &k.node(&p("/a/b"))));
        assert!(!in_range(&root, &k.node(&Path::root())));
    }

    #[test]
    fn child_names_decode() {
        let k = Keys::new("/ns");
        let prefix = k.children_prefix(&p("/a"));
        let key = Keys::child(&prefix, "über");
        assert_eq!(key, k.node(&p("/a/über")));
        assert_eq!(Keys::child_name(&prefix, &key).unwrap().as_str(), "über");
        assert!(Keys::child_name(&prefix, b"/ns/0002/a/x/y").is_none());
        assert!(Keys::child_name(&prefix, b"/elsewhere").is_none());
    }

    #[test]
    fn range_ends_and_successors() {
        assert_eq!(range_end(b"/a/"), b"/a0");
        assert_eq!(range_end(b"a\xff"), b"b");
        assert_eq!(range_end(b"\xff"), b"\0");
        assert_eq!(key_after(b"k"), b"k\0");
    }
}
