//! Who may touch the nodes the store creates, and whether the configured
//! credentials may use the chroot.
//!
//! With [`Credentials`] every node the store creates (the chroot and its
//! missing ancestors included) gets the explicit ACL `digest:<user>:<hash>`
//! with `ALL` (the hash is base64 of the SHA-1 of `user:password`, as
//! ZooKeeper computes it), and nothing for anyone else, not even reading.
//! Not ZooKeeper's `auth` scheme: that grants every identity of the
//! creating session, and over TLS a session also has the `x509` identity
//! of its client certificate, which other tenants may share. Another client without those
//! credentials can neither read nor change the tree (operators use
//! `addauth digest user:password` in `zkCli.sh`). Without credentials nodes
//! are open to everyone (`world:anyone`, `ALL`).
//!
//! ZooKeeper never refuses digest credentials when a session starts (any
//! `user:password` is a valid identity); a wrong password shows as `NoAuth`
//! on the first request touching a node protected for the right one. With a
//! chroot the store makes that request while connecting, so wrong
//! credentials fail [`ZkStore::connect`](crate::ZkStore::connect) with
//! [`Error::Unauthorized`].

use tenure_core::{Error, Path, Result, SessionId};
use zookeeper_client as zk;

use crate::config::Credentials;
use crate::errors;

/// The ACL of every node the store creates.
pub(crate) fn acls(credentials: Option<&Credentials>) -> zk::Acls<'_> {
    match credentials {
        Some(c) => zk::Acls::new(c.acl()),
        None => zk::Acls::anyone_all(),
    }
}

/// The id ZooKeeper's `digest` scheme gives `user` with `password`:
/// `user:base64(sha1("user:password"))`.
pub(crate) fn digest_id(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let sha = sha1_smol::Sha1::from(format!("{user}:{password}"))
        .digest()
        .bytes();
    let hash = base64::engine::general_purpose::STANDARD.encode(sha);
    format!("{user}:{hash}")
}

/// The rights the store needs on its chroot.
fn needed() -> zk::Permission {
    zk::Permission::READ | zk::Permission::WRITE | zk::Permission::CREATE | zk::Permission::DELETE
}

/// Makes sure `chroot` exists (creating it and its missing ancestors with
/// the store's ACL) and that this client may use it.
pub(crate) async fn prepare_chroot(
    client: &zk::Client,
    chroot: &Path,
    credentials: Option<&Credentials>,
    session: SessionId,
) -> Result<()> {
    match client.get_acl(chroot.as_str()).await {
        Ok((acl, _)) => check_grants(&acl, chroot, credentials),
        Err(zk::Error::NoNode) => create_chroot(client, chroot, credentials, session).await,
        Err(zk::Error::NoAuth) => Err(refused(chroot, credentials)),
        Err(e) => Err(errors::map(e, errors::Kind::Node, chroot, session)),
    }
}

async fn create_chroot(
    client: &zk::Client,
    chroot: &Path,
    credentials: Option<&Credentials>,
    session: SessionId,
) -> Result<()> {
    let options = zk::CreateMode::Persistent.with_acls(acls(credentials));
    let mut missing = vec![chroot.clone()];
    while let Some(parent) = missing.last().and_then(Path::parent) {
        if parent.is_root() {
            break;
        }
        missing.push(parent);
    }
    for node in missing.iter().rev() {
        match client.create(node.as_str(), b"", &options).await {
            Ok(_) | Err(zk::Error::NodeExists) => {}
            Err(zk::Error::NoAuth) => return Err(refused(node, credentials)),
            Err(e) => return Err(errors::map(e, errors::Kind::Create, node, session)),
        }
    }
    tracing::info!(%chroot, "created the ZooKeeper chroot");
    Ok(())
}

/// Whether `acl` lets this client read and write below the chroot.
fn check_grants(acl: &[zk::Acl], chroot: &Path, credentials: Option<&Credentials>) -> Result<()> {
    let granted = acl.iter().any(|entry| {
        let ours = match (entry.scheme(), credentials) {
            ("world", _) => entry.id() == "anyone",
            ("digest", Some(c)) => entry
                .id()
                .strip_prefix(c.user())
                .is_some_and(|rest| rest.starts_with(':')),
            _ => false,
        };
        ours && entry.permission().has(needed())
    });
    if granted {
        Ok(())
    } else {
        Err(refused(chroot, credentials))
    }
}

fn refused(node: &Path, credentials: Option<&Credentials>) -> Error {
    let who = match credentials {
        Some(c) => format!("the digest credentials of user {:?}", c.user()),
        None => "a client without credentials".to_string(),
    };
    Error::Unauthorized {
        detail: format!("ZooKeeper's ACL of {node} does not let {who} read and write there"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(scheme: &str, id: &str, perm: zk::Permission) -> zk::Acl {
        zk::Acl::new(perm, zk::AuthId::new(scheme, id))
    }

    #[test]
    fn digest_id_is_zookeepers() {
        // `printf super:secret | openssl dgst -sha1 -binary | base64`
        assert_eq!(
            digest_id("super", "secret"),
            "super:lK75jTNcA+U9vtVEw5vB51mj/w4="
        );
    }

    #[test]
    fn grants_need_read_write_create_delete_for_this_identity() {
        let root = Path::new("/t").unwrap();
        let alice = Credentials::parse("alice:pw").unwrap();
        let all = zk::Permission::ALL;
        let ok = [acl("digest", "alice:hash=", all)];
        assert!(check_grants(&ok, &root, Some(&alice)).is_ok());
        assert!(check_grants(&ok, &root, None).is_err());
        let other = [acl("digest", "alicia:hash=", all)];
        assert!(check_grants(&other, &root, Some(&alice)).is_err());
        let open = [acl("world", "anyone", all)];
        assert!(check_grants(&open, &root, None).is_ok());
        let read_only = [acl("world", "anyone", zk::Permission::READ)];
        let e = check_grants(&read_only, &root, Some(&alice)).unwrap_err();
        assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
        assert!(e.to_string().contains("alice"), "{e}");
    }
}
